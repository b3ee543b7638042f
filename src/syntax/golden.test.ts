import test from 'ava';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDockerfile, toDocument } from './index.ts';

/*
 * Golden cases: testdata/parse/<case>/Dockerfile must parse without errors into exactly
 * expected.json (the `kiln parse --json` document); testdata/parse-negative/<case>/Dockerfile
 * must fail with exactly the errors in its expected.json (code, line, column). Adding a case
 * is adding a folder. KILN_UPDATE_GOLDEN=1 rewrites the expected files: review the diff.
 */
const root = new URL('../../testdata/', import.meta.url).pathname;
const update = process.env['KILN_UPDATE_GOLDEN'] === '1';

function cases(dir: string): string[] {
  return readdirSync(join(root, dir)).sort();
}

for (const name of cases('parse')) {
  test(`parse golden: ${name}`, (t) => {
    const dir = join(root, 'parse', name);
    const text = readFileSync(join(dir, 'Dockerfile'), 'utf8');
    const { ast, diagnostics } = parseDockerfile(text);
    const document = toDocument(ast, diagnostics);
    if (update) writeFileSync(join(dir, 'expected.json'), `${JSON.stringify(document, null, 2)}\n`);
    t.deepEqual(document.errors, [], 'a golden case parses without errors');
    t.deepEqual(document, JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')));
  });
}

for (const name of cases('parse-negative')) {
  test(`parse negative: ${name}`, (t) => {
    const dir = join(root, 'parse-negative', name);
    const text = readFileSync(join(dir, 'Dockerfile'), 'utf8');
    const { diagnostics } = parseDockerfile(text, { file: 'Dockerfile' });
    const errors = diagnostics
      .filter((d) => d.severity === 'error')
      .map((d) => ({ code: d.code, line: d.range.start.line, column: d.range.start.column, message: d.message }));
    if (update) writeFileSync(join(dir, 'expected.json'), `${JSON.stringify(errors, null, 2)}\n`);
    t.true(errors.length > 0, 'a negative case fails');
    for (const e of errors) t.regex(e.message, /\S/);
    t.deepEqual(errors, JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')));
  });
}

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dumpSexp, parseDockerfile } from '../../src/syntax/index.ts';

/** How kiln's parser fared against one of BuildKit's tables. */
export interface ReferenceCheck {
  readonly passed: number;
  readonly failed: number;
  readonly failures: readonly string[];
}

/**
 * Compares kiln's parser with BuildKit's own parser test files, read at run time from a
 * checkout of moby/buildkit: every frontend/dockerfile/parser/testfiles/<case>/Dockerfile
 * must dump (in BuildKit's s-expression form) exactly as that case's `result` file says, and
 * every testfiles-negative/<case>/Dockerfile must give an error.
 */
export async function checkParser(buildkitDir: string): Promise<{ positive: ReferenceCheck; negative: ReferenceCheck }> {
  const root = join(buildkitDir, 'frontend/dockerfile/parser');
  const positive = { passed: 0, failed: 0, failures: [] as string[] };
  for (const name of (await readdir(join(root, 'testfiles'))).sort()) {
    const dir = join(root, 'testfiles', name);
    const text = await readFile(join(dir, 'Dockerfile'), 'utf8');
    const expected = await readFile(join(dir, 'result'), 'utf8');
    const { ast, diagnostics } = parseDockerfile(text, { file: `${name}/Dockerfile` });
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const actual = `${dumpSexp(ast)}\n`;
    if (errors.length === 0 && actual === expected) {
      positive.passed++;
    } else {
      positive.failed++;
      positive.failures.push(
        errors.length > 0
          ? `${name}: unexpected error ${errors.map((e) => `${e.range.start.line}: ${e.message}`).join('; ')}`
          : `${name}: dump differs\n--- expected\n${expected}--- kiln\n${actual}`,
      );
    }
  }
  const negative = { passed: 0, failed: 0, failures: [] as string[] };
  for (const name of (await readdir(join(root, 'testfiles-negative'))).sort()) {
    const text = await readFile(join(root, 'testfiles-negative', name, 'Dockerfile'), 'utf8');
    const { diagnostics } = parseDockerfile(text, { file: `${name}/Dockerfile` });
    if (diagnostics.some((d) => d.severity === 'error')) {
      negative.passed++;
    } else {
      negative.failed++;
      negative.failures.push(`${name}: parsed without error`);
    }
  }
  return { positive, negative };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2];
  if (dir === undefined) {
    process.stderr.write('usage: parser.ts BUILDKIT_CHECKOUT\n');
    process.exit(2);
  }
  const { positive, negative } = await checkParser(dir);
  for (const f of [...positive.failures, ...negative.failures]) process.stdout.write(`FAIL ${f}\n`);
  process.stdout.write(`parser testfiles: ${positive.passed} passed, ${positive.failed} failed\n`);
  process.stdout.write(`parser testfiles-negative: ${negative.passed} passed, ${negative.failed} failed\n`);
}

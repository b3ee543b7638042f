// Compares kiln with the reference implementations' own test tables, read at run time from
// checkouts (nothing of theirs is copied into kiln):
//   npm run conformance -- BUILDKIT_DIR PATTERNMATCHER_DIR
// BUILDKIT_DIR is a checkout of moby/buildkit, PATTERNMATCHER_DIR one of moby/patternmatcher.
// Exits 1 when any row disagrees, listing the rows.
import { checkIgnore } from './reference/ignore.ts';
import { checkParser } from './reference/parser.ts';
import { checkShell } from './reference/shell.ts';

interface Check {
  readonly passed: number;
  readonly failed: number;
  readonly failures: readonly string[];
}

const [buildkit, patternmatcher] = process.argv.slice(2);
if (buildkit === undefined || patternmatcher === undefined) {
  process.stderr.write('usage: conformance.ts BUILDKIT_DIR PATTERNMATCHER_DIR\n');
  process.exit(2);
}

const parser = await checkParser(buildkit);
const results: [string, Check][] = [
  ['buildkit frontend/dockerfile/parser/testfiles (dump equal to result)', parser.positive],
  ['buildkit frontend/dockerfile/parser/testfiles-negative (must fail)', parser.negative],
  ['buildkit frontend/dockerfile/shell envVarTest + wordsTest', await checkShell(buildkit)],
  ['patternmatcher TestMatches (3 modes), matchTests, compileTests, TestReadAll', await checkIgnore(patternmatcher)],
];
let failed = 0;
for (const [name, check] of results) {
  for (const f of check.failures) process.stdout.write(`FAIL ${f}\n`);
  process.stdout.write(`${name}: ${check.passed} passed, ${check.failed} failed\n`);
  failed += check.failed;
}
process.exitCode = failed === 0 ? 0 : 1;

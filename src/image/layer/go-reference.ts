import type { ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * For tests: builds the Go program testdata/`name`.go (a reference reader or writer from Go's
 * standard library, what containerd and skopeo use) into a directory removed at the test's
 * end, and returns the binary; undefined after failing the test when Go is missing.
 */
export async function goReference(t: ExecutionContext, name: string): Promise<{ readonly binary: string; readonly dir: string } | undefined> {
  const dir = await mkdtemp(join(tmpdir(), `kiln-${name}-`));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const binary = join(dir, name);
  try {
    await run('go', ['build', '-o', binary, fileURLToPath(new URL(`./testdata/${name}.go`, import.meta.url))]);
  } catch (error) {
    t.fail(`this test needs the Go toolchain (apt-get install -y golang-go) to build its reference: ${String(error)}`);
    return undefined;
  }
  return { binary, dir };
}

import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfsTar } from './busybox.ts';
import { kilnAsync, startKiln } from './kiln.ts';

/*
 * Bounded memory of kiln build, in a file of its own: the peak RSS is polled from /proc while
 * the build runs, which needs an event loop no synchronous child blocks (the other build
 * tests run kiln synchronously).
 */
const work = await mkdtemp(join(tmpdir(), 'kiln-e2e-memory-'));

test.after.always(async () => {
  await rm(work, { recursive: true, force: true });
});

test('memory stays bounded: a 1 GiB file in the context is hashed, copied and diffed in well under its size of RSS', async (t) => {
  const root = join(work, 'root');
  const context = join(work, 'context');
  await mkdir(context);
  const imported = await kilnAsync(root, ['import', await busyboxRootfsTar(work), 'busybox:latest']);
  t.is(imported.code, 0, imported.stderr);
  await writeFile(join(context, 'Dockerfile'), 'FROM busybox\nCOPY huge.bin /huge.bin\n');
  execFileSync('truncate', ['-s', '1G', join(context, 'huge.bin')]);
  const started = startKiln(root, ['build', '--progress', 'plain', context]);
  let peakKiB = 0;
  const poll = setInterval(() => {
    readFile(`/proc/${started.pid}/status`, 'utf8')
      .then((s) => {
        const hwm = Number(/^VmHWM:\s+(\d+) kB$/m.exec(s)?.[1] ?? 0);
        if (hwm > peakKiB) peakKiB = hwm;
      })
      .catch(() => undefined);
  }, 20);
  const ended = await started.result.finally(() => clearInterval(poll));
  t.is(ended.code, 0, ended.stderr);
  t.true(peakKiB > 0, 'the peak was read');
  t.true(peakKiB < 300 * 1024, `peak RSS ${Math.round(peakKiB / 1024)} MiB`);
});

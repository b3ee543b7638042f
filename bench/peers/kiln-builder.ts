import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LinuxExecutor } from '../../src/sandbox/index.ts';
import { TRUE_SPEC } from '../sandbox.ts';
import { timeProcess, type ProcessTiming } from '../time-process.ts';
import type { Builder } from './builder.ts';


/** Options of {@link createKilnBuilder}. */
export interface KilnBuilderOptions {
  /** The bundled CLI to run (a copy of dist/cli.cjs: see kiln-package.ts). */
  readonly cli: string;
  /** A directory only this builder writes under (created). */
  readonly dir: string;
  /** The busybox root file system as a plain tar, imported as busybox:latest into each fresh root. */
  readonly baseTar: string;
  /** The busybox root file system as a directory, which W8 runs `true` from. */
  readonly baseRoot: string;
}

/**
 * kiln as a {@link Builder}: every command through the bundled CLI (`node cli.cjs`) on a
 * kiln root of its own; `fresh` makes a new root holding only busybox:latest (`kiln import`,
 * untimed). kiln has no `run` command yet, so W8 times its sandbox in-process through
 * `LinuxExecutor` (as bench/sandbox.ts does): no process start, no image lookup. Nothing to
 * stop on close: every kiln command is a process that has exited.
 */
export async function createKilnBuilder(options: KilnBuilderOptions): Promise<Builder> {
  await mkdir(options.dir, { recursive: true });
  const executor = new LinuxExecutor();
  const rootfs = [{ type: 'bind' as const, source: options.baseRoot, options: ['rbind', 'ro'] }];
  let roots = 0;
  let root: string | undefined;
  let baseArchive: string | undefined;
  const current = (): string => {
    if (root === undefined) throw new Error('kiln builder: fresh() was not called');
    return root;
  };
  const cli = (args: readonly string[]): Promise<ProcessTiming> => timeProcess([process.execPath, options.cli, '--root', current(), ...args]);
  return {
    name: 'kiln',
    description: `kiln ${options.cli} on node ${process.version}`,
    saves: {
      gzip: 'kiln save -o FILE IMAGE',
      uncompressed: 'kiln build -o type=oci,dest=FILE,compression=uncompressed -t IMAGE CONTEXT (every step cached)',
    },
    async fresh() {
      // The base comes as the peers get it: `kiln load` of an image archive, which (as `docker
      // load` and `buildah pull`) unpacks it. The archive is made once, from an import.
      if (baseArchive === undefined) {
        root = join(options.dir, 'seed');
        await mkdir(root);
        await cli(['import', options.baseTar, 'busybox:latest', '--change', 'CMD ["sh"]']);
        baseArchive = join(options.dir, 'busybox-image.tar');
        await cli(['save', '-o', baseArchive, 'busybox:latest']);
      }
      root = join(options.dir, `root-${roots++}`);
      await mkdir(root);
      await cli(['load', '-q', '-i', baseArchive]);
    },
    build: (context, tag) => cli(['build', '--progress', 'plain', '-t', tag, context]),
    saveImage: (tag, file, compression, context) =>
      compression === 'gzip'
        ? cli(['save', '-o', file, tag])
        : // Build layers are stored uncompressed; the form with every layer so (the base too) is made once and recorded.
          cli(['build', '--progress', 'plain', '-t', tag, '-o', `type=oci,dest=${file},compression=uncompressed`, context]),
    async startTrue() {
      const start = performance.now();
      const result = await executor.run(TRUE_SPEC, rootfs, {}, AbortSignal.timeout(10_000));
      const ms = performance.now() - start;
      if (result.exitCode !== 0) throw new Error(`kiln's sandbox: /bin/true exited ${String(result.exitCode)}`);
      return ms;
    },
    async close() {},
  };
}

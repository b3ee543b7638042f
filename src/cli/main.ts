import { Command, CommanderError } from 'commander';
import { KilnError } from '../errors/index.ts';
import { EXIT, exitCodeFor } from './exit-codes.ts';

declare const KILN_VERSION: string | undefined;

/**
 * The kiln command line. Each command's module is imported only when that command runs, so
 * start-up pays for commander and nothing else (see bench/parse).
 */
export function createProgram(): Command {
  const program = new Command('kiln')
    .description('Build OCI images from Dockerfiles, run and ship them')
    .version(typeof KILN_VERSION === 'string' ? KILN_VERSION : '0.0.0-dev', '-v, --version')
    .showSuggestionAfterError()
    .exitOverride();

  program.option('--root <dir>', 'kiln state directory (default: $KILN_ROOT, /var/lib/kiln as root, else $XDG_DATA_HOME/kiln)');

  program
    .command('parse')
    .description('parse a Dockerfile and print it; exit 1 on a syntax error')
    .argument('<file>', 'the Dockerfile, or - for standard input')
    .option('--json', 'print one JSON document (a stable format) instead of text')
    .action(async (file: string, options: { json?: boolean }) => {
      const { runParse } = await import('./commands/parse.ts');
      process.exitCode = await runParse(file, { json: options.json === true });
    });

  registerBuildCommand(program);
  registerBuildLogCommand(program);
  registerImageCommands(program);
  return program;
}

/** Opens the store at the root the global options name; imported only by commands that need it. */
async function store(command: Command) {
  const [{ ImageStore }, { resolveRoot }, { CacheRecords, cacheBlobs }] = await Promise.all([
    import('../store/index.ts'),
    import('./root.ts'),
    import('../cache/index.ts'),
  ]);
  const root = resolveRoot((command.optsWithGlobals() as { root?: string }).root);
  // The build cache's layers are GC roots of the store, beside the tags.
  return ImageStore.open(root, { extraRoots: async () => cacheBlobs(await CacheRecords.open(root)) });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function registerBuildCommand(program: Command): void {
  program
    .command('build')
    .description('build an image from a Dockerfile and a context')
    .argument('<context>', 'the context directory, or - to read a Dockerfile or a context tar from standard input')
    .option('-f, --file <file>', 'the Dockerfile (default: CONTEXT/Dockerfile; - for standard input)')
    .option('-t, --tag <name>', 'name the image (a new version of the tag); repeatable', collect, [])
    .option('--build-arg <name[=value]>', 'set a build argument (without =value: from the environment); repeatable', collect, [])
    .option('--target <stage>', 'build this stage (default: the last)')
    .option('--no-cache', 'run every step, using no cache')
    .option('--no-cache-filter <stage>', 'run every step of this stage, using no cache; repeatable', collect, [])
    .option('--label <key=value>', 'add a label to the image; repeatable', collect, [])
    .option('--platform <os/arch>', 'the target platform (only the native one)')
    .option('--memory <size>', 'memory limit of every RUN (e.g. 512m, 1g)')
    .option('--cpus <n>', 'CPU limit of every RUN, in CPUs')
    .option('--pids-limit <n>', 'process limit of every RUN')
    .option('--allow <entitlement>', 'allow network.host or security.insecure; repeatable', collect, [])
    .option('--max-parallelism <n>', 'how many steps run at once (default 16)')
    .option('--secret <spec>', 'expose a secret to RUN --mount=type=secret: id=ID,src=FILE or id=ID,env=VAR; repeatable', collect, [])
    .option('--ssh <spec>', 'forward an SSH agent to RUN --mount=type=ssh: default or ID[=SOCKET]; repeatable', collect, [])
    .option('-o, --output <spec>', 'also write the result: type=image[,name=REF], type=oci|docker|local|tar,dest=PATH (dest=- for standard output); repeatable', collect, [])
    .option('--iidfile <file>', 'write the image ID to this file')
    .option('--metadata-file <file>', 'write the build result metadata (digests, descriptor) as JSON to this file')
    .option('--progress <mode>', 'auto, tty, plain, rawjson or quiet (default: $KILN_PROGRESS, $BUILDKIT_PROGRESS, auto)')
    .option('-q, --quiet', 'print only the image ID')
    .action(async (context: string, options: import('./commands/build.ts').BuildFlags, command: Command) => {
      const { runBuildCommand } = await import('./commands/build.ts');
      process.exitCode = await runBuildCommand(await store(command), context, options, interrupt());
    });
}

function registerBuildLogCommand(program: Command): void {
  program
    .command('build-log')
    .description("show a kept build's whole log (the latest build's without an ID)")
    .argument('[build-id]', 'the build ID kiln build printed, or a unique prefix of it')
    .option('--json', 'print the log as it is kept: one JSON event a line')
    .action(async (id: string | undefined, options: { json?: boolean }, command: Command) => {
      const { runBuildLog } = await import('./commands/build.ts');
      process.exitCode = await runBuildLog(await store(command), id, { json: options.json === true });
    });
}

function registerImageCommands(program: Command): void {
  program
    .command('import')
    .description('create an image from a root filesystem tar (plain, gzip, zstd, bzip2 or xz)')
    .argument('<file>', 'the tar, or - for standard input')
    .argument('[reference]', 'the name to tag the image with, e.g. busybox:1')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction to the config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL)', collect, [])
    .option('-m, --message <text>', 'the history comment (default: Imported from FILE)')
    .action(async (file: string, reference: string | undefined, options: { change: string[]; message?: string }, command: Command) => {
      const { runImport } = await import('./commands/archive.ts');
      process.exitCode = await runImport(await store(command), file, reference, { change: options.change, message: options.message }, interrupt());
    });

  program
    .command('load')
    .description('load images from an OCI layout tar or a docker archive')
    .option('-i, --input <file>', 'the archive, or - for standard input', '-')
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (options: { input: string; quiet?: boolean }, command: Command) => {
      const { runLoad } = await import('./commands/archive.ts');
      process.exitCode = await runLoad(await store(command), { input: options.input, quiet: options.quiet === true }, interrupt());
    });

  program
    .command('save')
    .description('save images to one tar that is both an OCI image layout and a docker archive')
    .argument('<image...>', 'names, IDs or digests')
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .action(async (images: string[], options: { output?: string }, command: Command) => {
      const { runSave } = await import('./commands/archive.ts');
      process.exitCode = await runSave(await store(command), images, { output: options.output }, interrupt());
    });

  program
    .command('images')
    .description('list images')
    .option('--all-versions', 'also list the earlier images each tag pointed at')
    .option('--format <format>', 'json: one JSON object a line')
    .option('--no-trunc', 'show whole image IDs')
    .action(async (options: { allVersions?: boolean; format?: string; trunc: boolean }, command: Command) => {
      const { runImages } = await import('./commands/images.ts');
      process.exitCode = await runImages(await store(command), {
        allVersions: options.allVersions === true,
        format: options.format,
        noTrunc: !options.trunc,
      });
    });

  const image = program.command('image').description('manage images');
  image
    .command('versions')
    .description('every image a tag has pointed at, with when and how it was set')
    .argument('<reference>')
    .option('--format <format>', 'json')
    .action(async (reference: string, options: { format?: string }, command: Command) => {
      const { runVersions } = await import('./commands/images.ts');
      process.exitCode = await runVersions(await store(command), reference, { format: options.format });
    });

  program
    .command('tag')
    .description('point TARGET at the image SOURCE names (a new version of TARGET)')
    .argument('<source>')
    .argument('<target>')
    .action(async (source: string, target: string, _options: unknown, command: Command) => {
      const { runTag } = await import('./commands/image-admin.ts');
      process.exitCode = await runTag(await store(command), source, target);
    });

  program
    .command('rmi')
    .description('remove tags (with their versions) or images, and the blobs nothing else needs')
    .argument('<image...>')
    .option('-f, --force', 'remove an image by ID even when tags refer to it, and those tags')
    .action(async (images: string[], options: { force?: boolean }, command: Command) => {
      const { runRmi } = await import('./commands/image-admin.ts');
      process.exitCode = await runRmi(await store(command), images, { force: options.force === true });
    });

  program
    .command('inspect')
    .description('show images as JSON, shaped like docker image inspect')
    .argument('<image...>')
    .action(async (images: string[], _options: unknown, command: Command) => {
      const { runInspect } = await import('./commands/image-admin.ts');
      process.exitCode = await runInspect(await store(command), images);
    });

  program
    .command('history')
    .description("show an image's history, like docker history")
    .argument('<image>')
    .option('--no-trunc', 'do not shorten output')
    .option('--format <format>', 'json: one JSON object a line')
    .action(async (name: string, options: { trunc: boolean; format?: string }, command: Command) => {
      const { runHistory } = await import('./commands/image-admin.ts');
      process.exitCode = await runHistory(await store(command), name, { noTrunc: !options.trunc, format: options.format });
    });

  program
    .command('prune')
    .description('remove dangling images, build cache as asked, and the blobs and snapshots nothing needs')
    .option('-a, --all', 'also drop earlier tag versions (and the images only they kept) and the whole build cache')
    .option('--keep-storage <size>', 'trim the build cache, least recently used first, to this size (e.g. 2g)')
    .option('--cache', 'also empty the cache mounts of RUN --mount=type=cache')
    .option('--filter <filter>', 'until=DURATION|TIMESTAMP: only what is older (images, versions, unused cache)', collect, [])
    .action(async (options: { all?: boolean; filter: string[]; keepStorage?: string; cache?: boolean }, command: Command) => {
      const { runPrune } = await import('./commands/image-admin.ts');
      process.exitCode = await runPrune(await store(command), {
        all: options.all === true,
        cache: options.cache === true,
        filter: options.filter,
        keepStorage: options.keepStorage,
      });
    });

  program
    .command('du')
    .description('show what uses the space under the root')
    .option('--format <format>', 'json')
    .action(async (options: { format?: string }, command: Command) => {
      const { runDu } = await import('./commands/image-admin.ts');
      process.exitCode = await runDu(await store(command), { format: options.format });
    });

  program
    .command('fsck')
    .description('verify every blob and record, and repair what can be repaired')
    .action(async (_options: unknown, command: Command) => {
      const { runFsck } = await import('./commands/image-admin.ts');
      process.exitCode = await runFsck(await store(command));
    });
}

/** An AbortSignal that SIGINT and SIGTERM fire, so long commands stop cleanly. */
function interrupt(): AbortSignal {
  const controller = new AbortController();
  // An AbortError, which the exit-code map turns into 130 wherever it surfaces.
  const stop = () => controller.abort(new DOMException('interrupted', 'AbortError'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return controller.signal;
}

async function main(argv: readonly string[]): Promise<void> {
  const program = createProgram();
  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed its message already; --help and --version exit 0.
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    process.stderr.write(`kiln: ${describe(error)}\n`);
    process.exitCode = exitCodeFor(error);
  }
}

function describe(error: unknown): string {
  if (error instanceof KilnError) {
    const where = error.file === undefined ? '' : `${error.file}${error.range ? `:${error.range.start.line}` : ''}: `;
    return `${where}${error.message}${error.hint ? `\nhint: ${error.hint}` : ''}`;
  }
  if (error instanceof Error && error.name === 'AbortError') return error.message;
  if (error instanceof Error) return error.stack ?? error.message;
  return String(error);
}

void main(process.argv);

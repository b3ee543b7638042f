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

  program
    .command('parse')
    .description('parse a Dockerfile and print it; exit 1 on a syntax error')
    .argument('<file>', 'the Dockerfile, or - for standard input')
    .option('--json', 'print one JSON document (a stable format) instead of text')
    .action(async (file: string, options: { json?: boolean }) => {
      const { runParse } = await import('./commands/parse.ts');
      process.exitCode = await runParse(file, { json: options.json === true });
    });

  return program;
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
  if (error instanceof Error) return error.stack ?? error.message;
  return String(error);
}

await main(process.argv);

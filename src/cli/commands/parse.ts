import { readFile } from 'node:fs/promises';
import { InputError } from '../../errors/index.ts';
import { formatText, parseDockerfile, toDocument } from '../../syntax/index.ts';
import { EXIT } from '../exit-codes.ts';
import { renderDiagnostic } from '../render-diagnostic.ts';

export interface ParseCommandOptions {
  readonly json: boolean;
}

/**
 * `kiln parse [--json] FILE|-`: prints the parsed Dockerfile; on a syntax error prints every
 * diagnostic with its source line and returns exit code 1. With --json, stdout holds exactly
 * one JSON document (even on error, then with no instructions) and diagnostics go to stderr.
 */
export async function runParse(file: string, options: ParseCommandOptions): Promise<number> {
  const name = file === '-' ? '<stdin>' : file;
  const source = await readSource(file);
  const { ast, diagnostics } = parseDockerfile(source, { file: name });
  const failed = diagnostics.some((d) => d.severity === 'error');
  for (const d of diagnostics) {
    if (options.json && d.severity === 'warning') continue;
    process.stderr.write(`${renderDiagnostic(d, source)}\n`);
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(toDocument(ast, diagnostics), null, 2)}\n`);
  } else if (!failed) {
    process.stdout.write(formatText(ast));
  }
  return failed ? EXIT.failed : EXIT.ok;
}

async function readSource(file: string): Promise<string> {
  try {
    if (file === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    }
    return await readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : String(cause)}`, {
      file,
      cause,
      hint: code === 'ENOENT' ? 'give the path of a Dockerfile, or - to read standard input' : undefined,
    });
  }
}

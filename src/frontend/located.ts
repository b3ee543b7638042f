import { DockerfileError, type SourceRange } from '../errors/index.ts';

/** Where a compile error points: the Dockerfile and the instruction's range in it. */
export interface Located {
  readonly file: string;
  readonly range: SourceRange;
}

/**
 * Throws a DockerfileError at `where`: the CLI prints `file:line` and the line with a caret,
 * so the message itself says only what is wrong.
 */
export function fail(where: Located, message: string, hint?: string, cause?: unknown): never {
  throw new DockerfileError(message, {
    file: where.file,
    range: where.range,
    ...(hint === undefined ? {} : { hint }),
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * A position in a source file: 1-based line, 1-based column counted in UTF-16 code units
 * of the line as written (tabs count as one).
 */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** A source range; `end` is inclusive of its line and exclusive of its column. */
export interface SourceRange {
  readonly start: Position;
  readonly end: Position;
}

/** Options every {@link KilnError} accepts. */
export interface KilnErrorOptions {
  /** What the user can do about it, one sentence. */
  readonly hint?: string;
  readonly cause?: unknown;
  /** The file the error is about (a Dockerfile, a context path, a tar). */
  readonly file?: string;
  /** Where in `file` it is. */
  readonly range?: SourceRange;
}

/**
 * The root of kiln's closed set of errors. Code branches on the subclass, never on the
 * message; the CLI maps the class to an exit code (src/cli/exit-codes.ts) and the daemon
 * maps it to an HTTP status, each in one place.
 */
export abstract class KilnError extends Error {
  /** A stable machine-readable code, e.g. `DOCKERFILE`. */
  abstract readonly code: string;
  readonly hint: string | undefined;
  readonly file: string | undefined;
  readonly range: SourceRange | undefined;

  constructor(message: string, options: KilnErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
    this.file = options.file;
    this.range = options.range;
  }
}

/** The user asked for something malformed: a bad flag, a missing argument. */
export class UsageError extends KilnError {
  readonly code = 'USAGE';
}

/** A Dockerfile (or another kiln input language) does not parse or does not compile. */
export class DockerfileError extends KilnError {
  readonly code = 'DOCKERFILE';
}

/** A file or path the user named cannot be read. */
export class InputError extends KilnError {
  readonly code = 'INPUT';
}

/** Something kiln promised and did not keep: a bug. */
export class InternalError extends KilnError {
  readonly code = 'INTERNAL';
}

/** A named thing does not exist: an image, a tag, a blob, a cache record. */
export class NotFoundError extends KilnError {
  readonly code = 'NOT_FOUND';
}

/** The operation clashes with the state: a name in use, a blob another record needs. */
export class ConflictError extends KilnError {
  readonly code = 'CONFLICT';
}

/**
 * Content is not what it claims to be: bytes that do not hash to their digest, a size that
 * does not match its descriptor, a truncated archive.
 */
export class IntegrityError extends KilnError {
  readonly code = 'INTEGRITY';
}

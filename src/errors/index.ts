export {
  KilnError,
  UsageError,
  DockerfileError,
  InputError,
  InternalError,
  NotFoundError,
  ConflictError,
  IntegrityError,
  type KilnErrorOptions,
  type Position,
  type SourceRange,
} from './kiln-error.ts';

export {
  KilnError,
  UsageError,
  DockerfileError,
  InputError,
  InternalError,
  type KilnErrorOptions,
  type Position,
  type SourceRange,
} from './kiln-error.ts';

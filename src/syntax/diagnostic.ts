import type { SourceRange } from '../errors/index.ts';

/**
 * A problem found in a Dockerfile. Parsing collects these instead of throwing; an error
 * means the Dockerfile cannot be built, a warning that it can, but probably not as meant.
 */
export interface Diagnostic {
  readonly kind: 'diagnostic';
  readonly severity: 'error' | 'warning';
  /** Stable and kebab-case, e.g. `unterminated-heredoc`: tests and tools match on it. */
  readonly code: string;
  /** What is wrong, and what was expected, in one sentence. */
  readonly message: string;
  /** What to do about it. */
  readonly hint: string | undefined;
  readonly file: string;
  readonly range: SourceRange;
  /** Documentation of the rule, where BuildKit publishes one. */
  readonly url: string | undefined;
}

/** Everything but `kind` and `severity`, for the two constructors below. */
export type DiagnosticInit = Omit<Diagnostic, 'kind' | 'severity' | 'hint' | 'url'> & {
  readonly hint?: string;
  readonly url?: string;
};

export function errorDiagnostic(init: DiagnosticInit): Diagnostic {
  return { kind: 'diagnostic', severity: 'error', hint: undefined, url: undefined, ...init };
}

export function warningDiagnostic(init: DiagnosticInit): Diagnostic {
  return { kind: 'diagnostic', severity: 'warning', hint: undefined, url: undefined, ...init };
}

/** `FILE:LINE:COLUMN: message`, the form compilers and editors understand. */
export function formatDiagnosticLocation(d: Diagnostic): string {
  return `${d.file}:${d.range.start.line}:${d.range.start.column}`;
}

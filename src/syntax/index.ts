export {
  INSTRUCTION_NAMES,
  type Directive,
  type Dockerfile,
  type EscapeChar,
  type Heredoc,
  type Instruction,
  type InstructionName,
} from './ast.ts';
export {
  errorDiagnostic,
  formatDiagnosticLocation,
  warningDiagnostic,
  type Diagnostic,
} from './diagnostic.ts';
export { checkSyntaxDirective } from './dialect.ts';
export { parseDockerfile, type ParseOptions, type ParseResult } from './parse.ts';
export { dumpSexp, formatText, goQuote, toDocument, type InstructionDocument, type ParseDocument } from './print.ts';

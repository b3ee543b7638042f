// The variable-expansion engine: BuildKit's Dockerfile word semantics ($VAR, ${VAR:-w},
// quotes, escapes, word splitting) and the table of which instructions use them.
export {
  createShellLexer,
  type ShellLexer,
  type ShellLexerOptions,
  type WordExpansion,
} from './lexer.ts';
export { envFromPairs, EMPTY_ENV, type ShellEnv } from './shell-env.ts';
export { isSpace } from './unicode-class.ts';
export {
  EXPANDED_INSTRUCTIONS,
  type ExpandedPart,
  type ExpansionInstruction,
  type InstructionExpansion,
  type PartExpansion,
} from './expanded-instructions.ts';

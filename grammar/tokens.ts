import { Lexer, createToken, type TokenType } from 'chevrotain';

/*
 * Tokens of the exec (JSON) form: `RUN ["a", "b"]`, `CMD [ ]`, `VOLUME ["/data"]`. BuildKit
 * decides the exec form with Go's encoding/json (frontend/dockerfile/parser, parseJSON), so
 * these follow RFC 8259 exactly: whatever JSON accepts lexes here, and text that is not JSON
 * fails to lex or parse, which the syntax layer turns into the shell-form fallback.
 */

/** JSON insignificant whitespace (RFC 8259 §2): space, tab, LF, CR and nothing else. */
export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\n\r]+/, group: Lexer.SKIPPED });
export const LSquare = createToken({ name: 'LSquare', pattern: /\[/, label: "'['" });
export const RSquare = createToken({ name: 'RSquare', pattern: /]/, label: "']'" });
export const LCurly = createToken({ name: 'LCurly', pattern: /{/, label: "'{'" });
export const RCurly = createToken({ name: 'RCurly', pattern: /}/, label: "'}'" });
export const Comma = createToken({ name: 'Comma', pattern: /,/, label: "','" });
export const Colon = createToken({ name: 'Colon', pattern: /:/, label: "':'" });
/** A JSON string: no raw control characters, only the escapes RFC 8259 §7 lists. */
export const StringLiteral = createToken({
  name: 'StringLiteral',
  pattern: /"(?:[^\\"\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/,
  label: 'a string',
});
export const NumberLiteral = createToken({
  name: 'NumberLiteral',
  pattern: /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/,
  label: 'a number',
});
export const True = createToken({ name: 'True', pattern: /true/, label: 'true' });
export const False = createToken({ name: 'False', pattern: /false/, label: 'false' });
export const Null = createToken({ name: 'Null', pattern: /null/, label: 'null' });

/** Every exec-form token, in the order the lexer tries them. */
export const execFormTokens: readonly TokenType[] = [
  WhiteSpace,
  LSquare,
  RSquare,
  LCurly,
  RCurly,
  Comma,
  Colon,
  StringLiteral,
  NumberLiteral,
  True,
  False,
  Null,
];

/**
 * The exec-form lexer. Position tracking is by offset only: the syntax layer maps offsets in
 * an instruction's logical line back to file lines and columns itself, since continuation
 * lines are joined before this lexer sees the text.
 */
export function createExecFormLexer(): Lexer {
  return new Lexer(execFormTokens as TokenType[], {
    positionTracking: 'onlyOffset',
    ensureOptimizations: false,
    skipValidations: true,
  });
}

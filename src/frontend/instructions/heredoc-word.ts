import { createShellLexer, EMPTY_ENV } from '../../shell/index.ts';

/** `[fd]<<[-][blanks]word` as the whole text (BuildKit's reHeredoc). */
const HEREDOC = /^(\d*)<<(-?)[\t\n\v\f\r ]*([^<]*)$/;
const lexer = createShellLexer({ skipUnsetEnv: true });

/**
 * The heredoc name when `text` as a whole is one heredoc word (`<<EOF`, `<<-"EOF"`), as
 * BuildKit's MustParseHeredoc decides it; undefined otherwise.
 */
export function heredocName(text: string): string | undefined {
  const rest = HEREDOC.exec(text)?.[3];
  if (rest === undefined || rest === '') return undefined;
  try {
    const words = lexer.processWords(rest, EMPTY_ENV);
    return words.length === 1 ? words[0] : undefined;
  } catch {
    return undefined;
  }
}

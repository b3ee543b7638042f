import type { ShellEnv, ShellLexer } from '../shell/index.ts';
import type { StageState } from './stage-state.ts';

/**
 * The name progress shows for a stage's next vertex (BuildKit's prefixCommand):
 * `[builder 2/5] RUN make`, numbered in the stage, the number padded to the total's width,
 * `ONBUILD ` before a trigger's text. A state without numbered steps gets the text alone.
 * Each call takes the next number.
 */
export function stepName(state: StageState, text: string): string {
  if (state.cmdTotal === 0) return text;
  state.cmdIndex++;
  const width = Math.floor(1 + Math.log10(state.cmdTotal));
  const stage = state.displayName === '' ? '' : `${state.displayName} `;
  return `[${stage}${String(state.cmdIndex).padStart(width)}/${state.cmdTotal}] ${state.cmdIsOnBuild ? 'ONBUILD ' : ''}${text}`;
}

/**
 * An instruction's text for display: variables expanded with `env` where that works (the
 * text as written where it does not), the instruction's keyword upper-cased.
 */
export function displayText(lexer: ShellLexer, code: string, env: ShellEnv): string {
  let text = code;
  try {
    text = lexer.processWord(code, env).word;
  } catch {
    // BuildKit shows the text unexpanded when it cannot be expanded (processCmdEnv).
  }
  const space = text.indexOf(' ');
  return space < 0 ? text.toUpperCase() : `${text.slice(0, space).toUpperCase()}${text.slice(space)}`;
}

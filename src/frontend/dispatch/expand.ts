import { createShellLexer } from '../../shell/index.ts';
import { shellEnv } from '../env-list.ts';
import type { Command } from '../instructions/command.ts';
import { fail } from '../located.ts';
import type { StageState } from '../stage-state.ts';
import type { DispatchContext } from './dispatch-context.ts';

/** Heredoc bodies are expanded with a backslash escape and quotes as plain text, whatever `# escape=` says. */
const heredocLexer = createShellLexer({ escape: '\\', skipProcessQuotes: true });

/** The instruction name of a command, for messages. */
export function commandName(command: Command): string {
  return command.kind.toUpperCase();
}

/**
 * Expands one word of `command` with the stage's environment as it stands (its ENV values
 * and the ARGs in scope).
 * @throws DockerfileError at the command when the word is malformed.
 */
export function expandWord(ctx: DispatchContext, state: StageState, command: Command, word: string): string {
  try {
    return ctx.lexer.processWord(word, shellEnv(state.env)).word;
  } catch (error) {
    return fail({ file: ctx.file, range: command.range }, `${commandName(command)}: ${(error as Error).message}`, undefined, error);
  }
}

/** Expands a COPY/ADD heredoc body whose delimiter was not quoted. */
export function expandHeredocBody(ctx: DispatchContext, state: StageState, command: Command, body: string): string {
  try {
    return heredocLexer.processWord(body, shellEnv(state.env)).word;
  } catch (error) {
    return fail({ file: ctx.file, range: command.range }, `${commandName(command)}: ${(error as Error).message}`, undefined, error);
  }
}

export { createExecFormLexer, execFormTokens } from './tokens.ts';
export { ExecFormParser, type CstNode } from './parser.ts';
export * as tokens from './tokens.ts';

import type { Vertex } from '../../graph/index.ts';
import type { ShellLexer } from '../../shell/index.ts';
import type { EnvPairs } from '../env-list.ts';

/** What every dispatcher needs from the build around the stage it works on. */
export interface DispatchContext {
  /** The Dockerfile, for errors and for vertex sources. */
  readonly file: string;
  /** Word expansion with the Dockerfile's escape character. */
  readonly lexer: ShellLexer;
  /** The same, with quotes kept and unset variables left as written: for RUN's displayed name. */
  readonly rawLexer: ShellLexer;
  /** `--build-arg` values. */
  readonly buildArgs: ReadonlyMap<string, string>;
  /** The global scope: automatic platform ARGs and the ARGs before the first FROM. */
  readonly globalArgs: EnvPairs;
  /** `HTTP_PROXY=…` entries every RUN gets. */
  readonly proxyEnv: readonly string[];
  /** The build context's source vertex, made once per build on first use. */
  contextVertex(): Vertex;
  /** Records an ARG name as declared, for the unused-build-args warning. */
  declareArg(name: string): void;
}

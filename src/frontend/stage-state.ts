import type { SourceRange } from '../errors/index.ts';
import type { Vertex } from '../graph/index.ts';
import type { ImageConfig } from '../image/index.ts';
import type { EnvPairs } from './env-list.ts';
import type { ArgDefinition, Command } from './instructions/command.ts';
import type { TargetPlatform } from './platform.ts';
import type { Stage } from './stages.ts';

/** A command and the stages (or images) it reads from: COPY --from, RUN --mount from=. */
export interface CommandEntry {
  readonly command: Command;
  /** One per source the command names; for RUN, one per mount (scratch when it names none). */
  readonly sources: readonly StageState[];
}

/**
 * One stage while it is compiled (BuildKit's dispatchState), or an image that a COPY --from
 * or a mount names without a stage of that name ("unregistered"). Mutable on purpose: the
 * compiler fills it in as it resolves bases and dispatches commands, in stage order.
 */
export interface StageState {
  /** The stage; undefined for an image named only by COPY --from or a mount. */
  readonly stage: Stage | undefined;
  /** The base after global ARG expansion; the normalised reference once resolved. */
  baseName: string;
  /** Where the state was named: its FROM, or the command naming an image. */
  readonly range: SourceRange;
  /** `AS name`, lower case. */
  readonly stageName: string | undefined;
  /** What vertex names show: the stage's name, `stage-N`, or '' when the build has one state. */
  displayName: string;
  /** FROM --platform, parsed. */
  readonly platform: TargetPlatform | undefined;
  /** Whether the target's graph needs this state. */
  reachable: boolean;
  /** `noCacheFilter` names this stage: its RUN, COPY and ADD vertices skip the cache. */
  readonly noCache: boolean;
  /** The earlier stage FROM names, if any. */
  base: StageState | undefined;
  /** The states this one's commands read from, with the command that does. */
  readonly deps: Map<StageState, Command>;
  commands: CommandEntry[];
  readonly unregistered: boolean;
  resolved: boolean;
  dispatched: boolean;
  onBuildInit: boolean;
  /** Vertex numbering: `[name index/total]`. */
  cmdIndex: number;
  cmdTotal: number;
  /** Whether the command being dispatched is an ONBUILD trigger. */
  cmdIsOnBuild: boolean;
  /** Whether this stage has a CMD yet: ENTRYPOINT clears the CMD unless it has. */
  cmdSet: boolean;

  /** The file system so far; set once the base is resolved. */
  vertex: Vertex | undefined;
  /** The image config so far (history included). */
  image: ImageConfig;
  /** The running environment: the config's Env and the ARGs in scope, in LLB order. */
  env: EnvPairs;
  /** WORKDIR so far, absolute. */
  dir: string;
  /** USER so far ('' for root). */
  user: string;
  /** The ARGs declared in this stage (and its base stage), in order. */
  buildArgs: ArgDefinition[];
}

/** A new state with nothing resolved. */
export function newStageState(init: {
  stage: Stage | undefined;
  baseName: string;
  range: SourceRange;
  displayName: string;
  platform: TargetPlatform | undefined;
  noCache: boolean;
  unregistered: boolean;
}): StageState {
  return {
    stage: init.stage,
    baseName: init.baseName,
    range: init.range,
    stageName: init.stage?.from.stageName,
    displayName: init.displayName,
    platform: init.platform,
    reachable: false,
    noCache: init.noCache,
    base: undefined,
    deps: new Map(),
    commands: [],
    unregistered: init.unregistered,
    resolved: false,
    dispatched: false,
    onBuildInit: false,
    cmdIndex: 0,
    cmdTotal: 0,
    cmdIsOnBuild: false,
    cmdSet: false,
    vertex: undefined,
    image: { architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [] } },
    env: [],
    dir: '/',
    user: '',
    buildArgs: [],
  };
}

/** The states of one build by position and by stage name (BuildKit's dispatchStates). */
export class StageRegistry {
  readonly states: StageState[] = [];
  readonly #byName = new Map<string, StageState>();

  /** Adds a state; its base is the earlier stage its base name names, if any. */
  add(state: StageState): void {
    this.states.push(state);
    const base = this.#byName.get(state.baseName.toLowerCase());
    if (base !== undefined) state.base = base;
    if (state.stageName !== undefined) this.#byName.set(state.stageName, state);
  }

  /** The stage named so (case-insensitive). */
  byName(name: string): StageState | undefined {
    return this.#byName.get(name.toLowerCase());
  }

  /** The stage names, for suggestions. */
  names(): string[] {
    return [...this.#byName.keys()];
  }
}

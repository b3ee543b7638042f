import type { Digest } from '../content/index.ts';
import { InternalError } from '../errors/index.ts';
import { createVertex, type BuildDefinition, type Vertex } from '../graph/index.ts';
import type { ImageConfig } from '../image/index.ts';
import { createShellLexer, type ShellLexer } from '../shell/index.ts';
import { checkSyntaxDirective, warningDiagnostic, type Diagnostic, type Dockerfile } from '../syntax/index.ts';
import { defaultArgs, globalArgs, proxyEnv, unusedBuildArgs } from './build-args.ts';
import type { DispatchContext } from './dispatch/dispatch-context.ts';
import { dispatchCommand } from './dispatch/dispatch.ts';
import { normalizeWorkdir } from './dispatch/workdir.ts';
import { setConfigEnv, setEnv, shellEnv, splitEnvString } from './env-list.ts';
import { fail } from './located.ts';
import { initOnBuildTriggers } from './onbuild-triggers.ts';
import { formatPlatform, normalizePlatform, parsePlatform, samePlatform, type TargetPlatform } from './platform.ts';
import { DEFAULT_PATH, resolveBase } from './resolve-base.ts';
import { checkCircularDependency, commandSources, reachableStates } from './stage-graph.ts';
import { newStageState, StageRegistry, type StageState } from './stage-state.ts';
import { splitStages, type Stage } from './stages.ts';
import { didYouMean } from './suggest.ts';

/** What {@link compile} needs besides the Dockerfile. */
export interface CompileOptions {
  /** The Dockerfile's path, for messages and for the vertices' `file`. */
  readonly file: string;
  /** `--build-arg K=V` (a K without a value is resolved by the CLI). */
  readonly buildArgs: ReadonlyMap<string, string>;
  /** `--target`: a stage name; the last stage when omitted. */
  readonly target?: string;
  /** The platform built for; the build platform too, for now. */
  readonly platform: TargetPlatform;
  /** `--label`: added to the final config as given (not expanded). */
  readonly labels?: ReadonlyMap<string, string>;
  /**
   * `--no-cache-filter`: the stages whose RUN, COPY and ADD vertices are marked `noCache`;
   * an empty list marks every stage, undefined none.
   */
  readonly noCacheFilter?: readonly string[];
  /** Looks up an image by name in the store: its ID, normalised name and config. */
  readonly resolveImage: (ref: string, signal?: AbortSignal) => Promise<{ id: Digest; ref: string; config: ImageConfig }>;
  readonly signal?: AbortSignal;
}

/** The build definition for the target, and the warnings found on the way. */
export interface CompileResult extends BuildDefinition {
  /** Warnings (build args no ARG declared, …); errors are thrown instead. */
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Compiles a parsed Dockerfile into the build graph for one target stage, with BuildKit's
 * Dockerfile frontend semantics (dockerfile2llb): stages and their dependencies (only those
 * the target needs are compiled), global and stage ARGs with `--build-arg`, ENV, ONBUILD
 * triggers of base images, one vertex per RUN, COPY, ADD and WORKDIR, BuildKit's vertex
 * names, and the image config with BuildKit's history entries.
 *
 * The `# syntax=` directive must name the docker/dockerfile:1 dialect. Base images are looked
 * up with `options.resolveImage` (in parallel, each name once); nothing else is read.
 * @throws DockerfileError with the file and the instruction's range for anything wrong in
 *   the Dockerfile; the resolver's errors, with the FROM's range added, for a missing image.
 */
export async function compile(ast: Dockerfile, options: CompileOptions): Promise<CompileResult> {
  const { file, signal } = options;
  signal?.throwIfAborted();
  const dialect = checkSyntaxDirective(ast);
  if (dialect !== undefined) fail({ file, range: dialect.range }, dialect.message, dialect.hint);
  const lexer = createShellLexer({ escape: ast.escape });
  const { metaArgs, stages } = splitStages(ast, file);
  const platform = normalizePlatform(options.platform);
  const lastStage = stages[stages.length - 1] as Stage;
  const targetName = options.target !== undefined && options.target !== '' ? options.target : lastStage.from.stageName;
  const globals = globalArgs(defaultArgs(platform, options.buildArgs, targetName), metaArgs, options.buildArgs, lexer, file);
  const declared = new Set(metaArgs.flatMap((c) => c.args.map((a) => a.key)));

  const registry = new StageRegistry();
  for (const stage of stages) {
    const state = stageState(stage, globals, platform, options, lexer);
    registry.add(state);
    state.cmdTotal = stepCount(state);
  }

  const target = findTarget(registry, options.target, lastStage, file);
  for (const state of [...registry.states]) {
    state.commands = (state.stage?.commands ?? []).map((command) => {
      const sources = commandSources(command, registry, lexer, file);
      for (const source of sources) state.deps.set(source, command);
      return { command, sources };
    });
  }
  checkCircularDependency(registry.states, file);
  if (registry.states.length === 1) for (const state of registry.states) state.displayName = '';

  await resolveStages(registry, target, platform, options, lexer);
  signal?.throwIfAborted();

  let contextVertex: Vertex | undefined;
  const ctx: DispatchContext = {
    file,
    lexer,
    rawLexer: createShellLexer({ escape: ast.escape, rawQuotes: true, skipUnsetEnv: true }),
    buildArgs: options.buildArgs,
    globalArgs: globals,
    proxyEnv: proxyEnv(options.buildArgs),
    contextVertex: () => (contextVertex ??= createVertex({ kind: 'context', name: 'context' }, [], { name: '[internal] load build context' })),
    declareArg: (name) => declared.add(name),
  };
  for (const state of registry.states) {
    if (!state.reachable || state.dispatched) continue;
    startStage(state);
    for (const entry of state.commands) {
      signal?.throwIfAborted();
      dispatchCommand(ctx, state, entry);
    }
  }

  const diagnostics: Diagnostic[] = [];
  const unused = unusedBuildArgs(options.buildArgs, declared);
  if (unused.length > 0) {
    diagnostics.push(
      warningDiagnostic({
        code: 'unused-build-args',
        message: `[Warning] One or more build-args [${unused.join(' ')}] were not consumed`,
        hint: 'declare them with ARG in the stages that use them, or drop the --build-arg',
        file,
        range: { start: { line: 1, column: 1 }, end: { line: 1, column: 1 } },
      }),
    );
  }
  const root = target.vertex;
  if (root === undefined) throw new InternalError(`target stage ${target.displayName} was not dispatched`);
  return {
    root,
    config: finalConfig(target.image, platform, options.labels),
    stage: target.stageName ?? String(target.stage?.index ?? 0),
    diagnostics,
  };
}

/** A stage's state: its base name and platform expanded with the global ARGs, its step count. */
function stageState(stage: Stage, globals: StageState['env'], platform: TargetPlatform, options: CompileOptions, lexer: ShellLexer): StageState {
  const { from } = stage;
  const where = { file: options.file, range: from.range };
  let baseName: string;
  try {
    baseName = lexer.processWord(from.baseName, shellEnv(globals)).word;
  } catch (error) {
    return fail(where, `FROM: ${(error as Error).message}`, undefined, error);
  }
  if (baseName === '') fail(where, `base name (${from.baseName}) should not be blank`, 'declare the ARG it uses before the first FROM, with a default or a --build-arg');
  let stagePlatform: TargetPlatform | undefined;
  if (from.platform !== undefined) {
    let text: string;
    try {
      text = lexer.processWord(from.platform, shellEnv(globals)).word;
    } catch (error) {
      return fail(where, `failed to process arguments for platform ${from.platform}: ${(error as Error).message}`, undefined, error);
    }
    if (text === '') fail(where, `empty platform value from expression ${from.platform}`);
    try {
      stagePlatform = parsePlatform(text, platform);
    } catch (error) {
      return fail(where, `failed to parse platform ${from.platform}: ${(error as Error).message}`, undefined, error);
    }
    if (!samePlatform(stagePlatform, platform)) {
      // TODO(#6): cross-platform stages (emulation, or pulling a base for another platform).
      fail(where, `FROM --platform=${formatPlatform(stagePlatform)}: kiln builds only for ${formatPlatform(platform)}`, 'remove --platform, or use $BUILDPLATFORM');
    }
  }
  const noCache = options.noCacheFilter !== undefined && (options.noCacheFilter.length === 0 || options.noCacheFilter.some((n) => n.toLowerCase() === from.stageName));
  const state = newStageState({
    stage,
    baseName,
    range: from.range,
    displayName: from.stageName ?? `stage-${stage.index}`,
    platform: stagePlatform,
    noCache,
    unregistered: false,
  });
  return state;
}

/** The `--target` stage, or the last one. */
function findTarget(registry: StageRegistry, target: string | undefined, last: Stage, file: string): StageState {
  if (target === undefined || target === '') return registry.states[last.index] as StageState;
  const found = registry.byName(target);
  if (found === undefined) {
    fail({ file, range: last.from.range }, `target stage ${JSON.stringify(target)} could not be found`, didYouMean(target, registry.names()) ?? 'give the name of a stage (FROM … AS name)');
  }
  return found;
}

/**
 * Resolves the bases of the states the target needs, then their ONBUILD triggers, again as
 * long as triggers add dependencies (BuildKit's resolveStages). Unreachable stages only have
 * their base name checked.
 */
async function resolveStages(registry: StageRegistry, target: StageState, platform: TargetPlatform, options: CompileOptions, lexer: ShellLexer): Promise<void> {
  // Each image is looked up once however many stages name it.
  const lookups = new Map<string, ReturnType<CompileOptions['resolveImage']>>();
  const resolveImage: CompileOptions['resolveImage'] = (ref, signal) => {
    let lookup = lookups.get(ref);
    if (lookup === undefined) {
      lookup = options.resolveImage(ref, signal);
      lookups.set(ref, lookup);
    }
    return lookup;
  };
  for (;;) {
    const reachable = reachableStates(target);
    for (const state of registry.states) state.reachable = reachable.has(state);
    const pending = registry.states.filter((s) => s.base === undefined && !s.dispatched && !s.resolved);
    await Promise.all(pending.map((s) => resolveBase(s, platform, resolveImage, options.file, options.signal)));
    let newDeps = false;
    for (const state of registry.states) {
      if (state.reachable && initOnBuildTriggers(state, registry, lexer, options.file)) newDeps = true;
    }
    if (!newDeps) return;
    checkCircularDependency(registry.states, options.file);
  }
}

/** How many numbered steps a stage has: its FROM when it is an image, and every RUN, COPY, ADD and WORKDIR. */
function stepCount(state: StageState): number {
  const steps = (state.stage?.commands ?? []).filter((c) => c.kind === 'run' || c.kind === 'copy' || c.kind === 'add' || c.kind === 'workdir').length;
  return steps + (state.base === undefined && state.baseName !== 'scratch' ? 1 : 0);
}

/**
 * Starts dispatching a stage (BuildKit's dispatchStages preamble): a stage built on another
 * takes over its file system, environment, directory, user, ARGs and config (less its
 * ONBUILD triggers); PATH is set when the config has none; the config's Env, WorkingDir and
 * User become the running state.
 */
function startStage(state: StageState): void {
  const base = state.base;
  if (base !== undefined) {
    state.vertex = base.vertex;
    const { OnBuild: _triggers, ...config } = base.image.config ?? {};
    state.image = { ...base.image, config };
    state.env = base.env;
    state.dir = base.dir;
    state.user = base.user;
    state.buildArgs = [...state.buildArgs, ...base.buildArgs];
  }
  state.dispatched = true;
  let configEnv = state.image.config?.Env ?? [];
  if (!configEnv.some((e) => splitEnvString(e)[0] === 'PATH')) configEnv = setConfigEnv(configEnv, 'PATH', DEFAULT_PATH);
  let env = state.env;
  for (const entry of configEnv) env = setEnv(env, ...splitEnvString(entry));
  state.env = env;
  const config = { ...state.image.config, Env: configEnv };
  if (config.WorkingDir !== undefined && config.WorkingDir !== '') {
    config.WorkingDir = normalizeWorkdir(config.WorkingDir, config.WorkingDir);
    state.dir = config.WorkingDir;
  }
  if (config.User !== undefined && config.User !== '') state.user = config.User;
  state.image = { ...state.image, config };
}

/**
 * The image config the build produces: the target stage's, with `--label`s added, the
 * build's platform, maps in key order (as Go writes them) and no `created`.
 */
function finalConfig(image: ImageConfig, platform: TargetPlatform, labels: ReadonlyMap<string, string> | undefined): ImageConfig {
  const { created: _created, ...rest } = image;
  let config = { ...rest.config };
  if (labels !== undefined && labels.size > 0) config.Labels = { ...config.Labels, ...Object.fromEntries(labels) };
  if (config.Labels !== undefined) config.Labels = sortKeys(config.Labels);
  if (config.ExposedPorts !== undefined) config.ExposedPorts = sortKeys(config.ExposedPorts);
  if (config.Volumes !== undefined) config.Volumes = sortKeys(config.Volumes);
  if (config.OnBuild !== undefined && config.OnBuild !== null && config.OnBuild.length === 0) {
    const { OnBuild: _none, ...withoutOnBuild } = config;
    config = withoutOnBuild;
  }
  const sameOsArch = rest.os === platform.os && rest.architecture === platform.architecture;
  const { variant: _variant, ...withoutVariant } = rest;
  const variant = platform.variant !== undefined && platform.variant !== '' ? platform.variant : sameOsArch ? rest.variant : undefined;
  return {
    ...withoutVariant,
    architecture: platform.architecture,
    os: platform.os,
    ...(variant === undefined || variant === '' ? {} : { variant }),
    config,
  };
}

function sortKeys<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

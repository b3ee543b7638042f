import type { ContainerConfig } from '../../image/index.ts';
import { shellEnv } from '../env-list.ts';
import { formatGoDuration } from '../go-duration.ts';
import { commitToHistory, goList, goQuotedList } from '../history.ts';
import type {
  CmdCommand,
  EntrypointCommand,
  ExposeCommand,
  HealthcheckCommand,
  LabelCommand,
  MaintainerCommand,
  OnbuildCommand,
  ShellCommand,
  StopSignalCommand,
  UserCommand,
  VolumeCommand,
} from '../instructions/command.ts';
import { fail } from '../located.ts';
import { parsePortSpecs } from '../port-specs.ts';
import type { StageState } from '../stage-state.ts';
import { isValidStopSignal } from '../stop-signal.ts';
import type { DispatchContext } from './dispatch-context.ts';
import { expandWord } from './expand.ts';

/** The shell BuildKit puts before shell-form commands on Linux when no SHELL was set. */
export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];

/** A shell-form command line through the stage's SHELL (BuildKit's withShell). */
export function withShell(state: StageState, args: readonly string[]): string[] {
  const shell = state.image.config?.Shell;
  return [...(shell !== undefined && shell.length > 0 ? shell : DEFAULT_SHELL), args.join(' ')];
}

function setConfig(state: StageState, change: (c: ContainerConfig) => ContainerConfig): void {
  state.image = { ...state.image, config: change(state.image.config ?? {}) };
}

/** The instructions that only change the image config: each sets its field and adds an empty-layer history entry. */
export type ConfigCommand =
  | CmdCommand
  | EntrypointCommand
  | ExposeCommand
  | HealthcheckCommand
  | LabelCommand
  | MaintainerCommand
  | OnbuildCommand
  | ShellCommand
  | StopSignalCommand
  | UserCommand
  | VolumeCommand;

/**
 * Applies a metadata instruction to the stage's config as BuildKit's dispatchers do, with
 * their history entries (`CMD ["/bin/sh" "-c" "x"]`, `EXPOSE [80/tcp]`, `USER app`, …).
 * ONBUILD adds a trigger and, as in BuildKit, no history entry.
 * @throws DockerfileError at the instruction for a bad port, signal or volume.
 */
export function dispatchConfigCommand(ctx: DispatchContext, state: StageState, command: ConfigCommand): void {
  const where = { file: ctx.file, range: command.range };
  switch (command.kind) {
    case 'cmd': {
      const args = command.prependShell ? withShell(state, command.cmdLine) : [...command.cmdLine];
      setConfig(state, (c) => ({ ...withoutKey(c, 'Cmd'), ...(args.length > 0 ? { Cmd: args } : {}), ArgsEscaped: true }));
      state.cmdSet = true;
      commitToHistory(state, `CMD ${goQuotedList(args)}`, false);
      return;
    }
    case 'entrypoint': {
      const args = command.prependShell ? withShell(state, command.cmdLine) : [...command.cmdLine];
      setConfig(state, (c) => {
        let next = { ...withoutKey(c, 'Entrypoint'), ...(args.length > 0 ? { Entrypoint: args } : {}) };
        // ENTRYPOINT resets CMD unless this stage set one before it.
        if (!state.cmdSet) next = withoutKey(next, 'Cmd');
        return next;
      });
      commitToHistory(state, `ENTRYPOINT ${goQuotedList(args)}`, false);
      return;
    }
    case 'healthcheck': {
      const h = command.health;
      setConfig(state, (c) => ({ ...c, Healthcheck: h }));
      const text =
        `{Test:${goList(h.Test ?? [])} Interval:${formatGoDuration(h.Interval ?? 0)} Timeout:${formatGoDuration(h.Timeout ?? 0)} ` +
        `StartPeriod:${formatGoDuration(h.StartPeriod ?? 0)} StartInterval:${formatGoDuration(h.StartInterval ?? 0)} Retries:${h.Retries ?? 0}}`;
      commitToHistory(state, `HEALTHCHECK ${text}`, false);
      return;
    }
    case 'expose': {
      const specs = command.ports.flatMap((p) => {
        try {
          return [...ctx.lexer.processWords(p, shellEnv(state.env))];
        } catch (error) {
          return fail(where, `EXPOSE: ${(error as Error).message}`, undefined, error);
        }
      });
      let ports: string[];
      try {
        ports = parsePortSpecs(specs);
      } catch (error) {
        return fail(where, `EXPOSE: ${(error as Error).message}`, 'write EXPOSE port[/tcp|udp|sctp] or a range such as 8000-8010', error);
      }
      setConfig(state, (c) => ({ ...c, ExposedPorts: { ...c.ExposedPorts, ...Object.fromEntries(ports.map((p) => [p, {}])) } }));
      commitToHistory(state, `EXPOSE ${goList(ports)}`, false);
      return;
    }
    case 'label': {
      const pairs = command.pairs.map((p) => ({ key: expandWord(ctx, state, command, p.key), value: expandWord(ctx, state, command, p.value) }));
      setConfig(state, (c) => ({ ...c, Labels: { ...c.Labels, ...Object.fromEntries(pairs.map((p) => [p.key, p.value])) } }));
      commitToHistory(state, `LABEL${pairs.map((p) => ` ${p.key}=${p.value}`).join('')}`, false);
      return;
    }
    case 'maintainer':
      state.image = { ...state.image, author: command.maintainer };
      commitToHistory(state, `MAINTAINER ${command.maintainer}`, false);
      return;
    case 'onbuild':
      setConfig(state, (c) => ({ ...c, OnBuild: [...(c.OnBuild ?? []), command.expression] }));
      return;
    case 'shell':
      setConfig(state, (c) => ({ ...c, Shell: [...command.shell] }));
      commitToHistory(state, `SHELL ${goList(command.shell)}`, false);
      return;
    case 'stopsignal': {
      const signal = expandWord(ctx, state, command, command.signal);
      if (!isValidStopSignal(signal)) fail(where, `STOPSIGNAL: invalid signal: ${signal}`, 'use a signal name such as SIGTERM, or its number');
      setConfig(state, (c) => ({ ...c, StopSignal: signal }));
      commitToHistory(state, `STOPSIGNAL ${signal}`, false);
      return;
    }
    case 'user': {
      const user = expandWord(ctx, state, command, command.user);
      state.user = user;
      setConfig(state, (c) => ({ ...c, User: user }));
      commitToHistory(state, `USER ${user}`, false);
      return;
    }
    case 'volume': {
      const volumes = command.volumes.map((v) => expandWord(ctx, state, command, v));
      if (volumes.some((v) => v === '')) fail(where, 'VOLUME specified can not be an empty string');
      setConfig(state, (c) => ({ ...c, Volumes: { ...c.Volumes, ...Object.fromEntries(volumes.map((v) => [v, {}])) } }));
      commitToHistory(state, `VOLUME ${goList(volumes)}`, false);
      return;
    }
  }
}

function withoutKey<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
  const { [key]: _removed, ...rest } = value;
  return rest;
}

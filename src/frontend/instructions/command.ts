import type { SourceRange } from '../../errors/index.ts';
import type { HealthConfig } from '../../image/index.ts';

/**
 * One Dockerfile instruction after validation (BuildKit's instructions package): flags
 * checked, arguments counted and split into fields, nothing expanded yet. Variables are
 * expanded when the instruction is dispatched, with the stage's environment at that point.
 */
export type Command =
  | AddCommand
  | ArgCommand
  | CmdCommand
  | CopyCommand
  | EntrypointCommand
  | EnvCommand
  | ExposeCommand
  | HealthcheckCommand
  | LabelCommand
  | MaintainerCommand
  | OnbuildCommand
  | RunCommand
  | ShellCommand
  | StopSignalCommand
  | UserCommand
  | VolumeCommand
  | WorkdirCommand;

/** What every command carries besides its fields. */
export interface CommandBase {
  /** The instruction's range; for a base image's ONBUILD trigger, the FROM's. */
  readonly range: SourceRange;
  /** The instruction's text with continuations joined, trimmed: BuildKit's String(). */
  readonly code: string;
  /** True when the command is an ONBUILD trigger of the stage's base. */
  readonly onBuild: boolean;
}

/** `FROM [--platform=p] image [AS name]`: the start of a stage. */
export interface FromCommand {
  readonly kind: 'from';
  readonly range: SourceRange;
  readonly code: string;
  /** The image or stage, as written (global ARGs not yet expanded). */
  readonly baseName: string;
  /** `AS name`, lower-cased; undefined when the stage has none. */
  readonly stageName: string | undefined;
  /** `--platform` as written. */
  readonly platform: string | undefined;
}

/** A key and value of ENV and LABEL, as written. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

/** `ENV key=value …`: values as written, quotes included, expanded when dispatched. */
export interface EnvCommand extends CommandBase {
  readonly kind: 'env';
  readonly pairs: readonly KeyValue[];
}

/** `LABEL key=value …`. */
export interface LabelCommand extends CommandBase {
  readonly kind: 'label';
  readonly pairs: readonly KeyValue[];
}

/** `MAINTAINER name`: the image author, taken literally. */
export interface MaintainerCommand extends CommandBase {
  readonly kind: 'maintainer';
  readonly maintainer: string;
}

/** One `ARG name[=default]`; `value` is undefined when no default was written. */
export interface ArgDefinition {
  readonly key: string;
  readonly value: string | undefined;
}

/** `ARG name[=default] …`. */
export interface ArgCommand extends CommandBase {
  readonly kind: 'arg';
  readonly args: readonly ArgDefinition[];
}

/** A heredoc source of COPY/ADD. */
export interface SourceContent {
  /** The heredoc's name: the file name it gets under the destination. */
  readonly path: string;
  readonly data: string;
  /** False when the delimiter was quoted: the body is taken literally. */
  readonly expand: boolean;
}

/** What COPY and ADD share. */
export interface SourcesAndDest {
  /** Paths (and for ADD, URLs) as written. */
  readonly sources: readonly string[];
  readonly contents: readonly SourceContent[];
  readonly dest: string;
  readonly chown: string | undefined;
  readonly chmod: string | undefined;
  readonly link: boolean;
  readonly excludes: readonly string[];
}

/** `COPY`: local sources (the context, a stage or an image) and heredocs to a destination. */
export interface CopyCommand extends CommandBase, SourcesAndDest {
  readonly kind: 'copy';
  /** `--from`: a stage name or index, or an image. */
  readonly from: string | undefined;
  readonly parents: boolean;
}

/** `ADD`: as COPY from the context, plus URLs, archive unpacking and `--checksum`. */
export interface AddCommand extends CommandBase, SourcesAndDest {
  readonly kind: 'add';
  readonly checksum: string | undefined;
  /** `--unpack`, when given. */
  readonly unpack: boolean | undefined;
}

/** A heredoc attached to RUN. */
export interface ShellInlineFile {
  readonly name: string;
  readonly data: string;
}

/** `RUN`: a command run in the stage's file system. */
export interface RunCommand extends CommandBase {
  readonly kind: 'run';
  /** Shell form: one string; exec form: the array. */
  readonly cmdLine: readonly string[];
  /** True for the shell form: the command goes through SHELL. */
  readonly prependShell: boolean;
  readonly files: readonly ShellInlineFile[];
  /** `--mount` values as written; parsed when the RUN is dispatched. */
  readonly mounts: readonly string[];
  /** The `from=` of each mount (undefined when none), known before expansion. */
  readonly mountFroms: readonly (string | undefined)[];
  readonly network: 'default' | 'none' | 'host';
  readonly security: 'sandbox' | 'insecure';
}

/** `CMD`: the image's default command. */
export interface CmdCommand extends CommandBase {
  readonly kind: 'cmd';
  readonly cmdLine: readonly string[];
  readonly prependShell: boolean;
}

/** `ENTRYPOINT`: the image's entrypoint; `ENTRYPOINT []` clears it. */
export interface EntrypointCommand extends CommandBase {
  readonly kind: 'entrypoint';
  readonly cmdLine: readonly string[];
  readonly prependShell: boolean;
}

/** `HEALTHCHECK`: the container's health check, or `NONE`. */
export interface HealthcheckCommand extends CommandBase {
  readonly kind: 'healthcheck';
  /** Durations in nanoseconds; zero fields left out. */
  readonly health: HealthConfig;
}

/** `EXPOSE port[/proto] …`. */
export interface ExposeCommand extends CommandBase {
  readonly kind: 'expose';
  /** As written, sorted as BuildKit sorts them; expanded and parsed when dispatched. */
  readonly ports: readonly string[];
}

/** `USER user[:group]`. */
export interface UserCommand extends CommandBase {
  readonly kind: 'user';
  readonly user: string;
}

/** `VOLUME path …`. */
export interface VolumeCommand extends CommandBase {
  readonly kind: 'volume';
  readonly volumes: readonly string[];
}

/** `STOPSIGNAL signal`. */
export interface StopSignalCommand extends CommandBase {
  readonly kind: 'stopsignal';
  readonly signal: string;
}

/** `SHELL ["executable", …]`: the shell of later shell-form commands. */
export interface ShellCommand extends CommandBase {
  readonly kind: 'shell';
  readonly shell: readonly string[];
}

/** `WORKDIR path`. */
export interface WorkdirCommand extends CommandBase {
  readonly kind: 'workdir';
  readonly path: string;
}

/** `ONBUILD instruction`: a trigger for images built on this one. */
export interface OnbuildCommand extends CommandBase {
  readonly kind: 'onbuild';
  /** The trigger as stored in the image config's OnBuild. */
  readonly expression: string;
}

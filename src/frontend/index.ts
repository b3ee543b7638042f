// The Dockerfile frontend: a parsed Dockerfile compiled into the build graph and image
// config for one target (BuildKit's dockerfile2llb semantics), and --change instructions
// applied to an image config.
export { compile, type CompileOptions, type CompileResult } from './compile.ts';
export type { ImageResolver } from './resolve-base.ts';
export type { TargetPlatform } from './platform.ts';
export { applyConfigChanges } from './config-changes.ts';

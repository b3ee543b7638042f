export { formatBuildFailure, type BuildFailure } from './build-failure.ts';
export { PROGRESS_MODES, parseProgressMode, progressModeFromEnv, type ProgressMode } from './progress-mode.ts';
export {
  createProgressRenderer,
  resolveProgressMode,
  type ProgressOutput,
  type ProgressRenderer,
  type ProgressRendererOptions,
} from './progress-renderer.ts';

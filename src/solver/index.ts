/** Runs build graphs: scheduling, the cache, one runner per op kind, progress events. */
export { createSolver, type Solver } from './solver.ts';
export type { OpRunner, SolveOptions, SolverDeps, StepContext } from './step-context.ts';
export type { Solved, SolvedContext, SolvedFs } from './solved.ts';
export { cleanAbandonedMounts, withMountedRoot } from './mounted-root.ts';
export type {
  BuildMessageEvent,
  ProgressEvent,
  ProgressSink,
  VertexCachedEvent,
  VertexCanceledEvent,
  VertexDoneEvent,
  VertexErrorEvent,
  VertexEvent,
  VertexLogEvent,
  VertexStartedEvent,
} from './progress-event.ts';

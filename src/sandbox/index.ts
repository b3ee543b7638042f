export type { BindMount, Executor, RootfsMount, RunResources, RunResult, RunSpec, RunUser, SandboxIo, TmpfsMount } from './executor.ts';
export { LinuxExecutor, type LinuxExecutorOptions } from './linux-executor.ts';
export { CAPABILITIES, DEFAULT_CAPABILITIES, RLIMITS, type Capability, type Rlimit } from './capabilities.ts';
export {
  createRunCgroups,
  detectCgroupHierarchies,
  removeAbandonedCgroups,
  type CgroupController,
  type CgroupHierarchies,
  type CgroupHierarchy,
  type RunCgroups,
} from './cgroups.ts';
export {
  applicableRules,
  DOCKER_DEFAULT_PROFILE,
  type SeccompAction,
  type SeccompArgument,
  type SeccompComparison,
  type SeccompProfile,
  type SeccompProfileArch,
  type SeccompRule,
  type SeccompRuleScope,
  type SeccompScope,
} from './seccomp-profile.ts';
export {
  compileSeccompProfile,
  defaultSeccompFilter,
  hostKernelVersion,
  hostSeccompArchitecture,
  type SeccompArchitecture,
  type SeccompTarget,
} from './seccomp-bpf.ts';

/** `kiln build` in-process: Dockerfile → graph → solve → image and outputs. */
export { readDockerfile, runBuild, type BuildRequest, type BuildResult } from './build.ts';
export { unpackImages } from './unpack-image.ts';
export { BuildLog, readBuildLog, type BuildLogHeader, type BuildLogLine, type BuildLogResult } from './build-log.ts';

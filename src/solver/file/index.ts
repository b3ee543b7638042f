/**
 * The file op's work (COPY, ADD of local files, WORKDIR's mkdir, heredoc files) on a real
 * directory showing the step's root file system, and who a step runs as.
 */
export type { CopySourceRoot } from '../../cache/index.ts';
export { copyFiles, type CopyRequest } from './copy-files.ts';
export { applyModeChange, type ModeChange, type ModeCommand, parseChmod } from './file-mode-change.ts';
export type { Owner } from './make-directories.ts';
export { makeDirectory, type MakeDirectoryOptions } from './make-directory.ts';
export { makeFile, type MakeFileOptions } from './make-file.ts';
export { resolveChown, resolveUser, resolveUserIn, type ResolvedUser, type UserFiles } from './resolve-user.ts';
export { MAX_USER_FILE } from './user-database.ts';
export { isArchive } from './unpack-archive.ts';
export { download, type Downloaded } from './download.ts';

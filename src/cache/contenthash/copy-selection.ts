import type { ContextFilter } from './context-filter.ts';

/**
 * Where a COPY reads from: a real directory on the host.
 *
 * - `context`: the build context directory. Paths its ignore rules exclude are not there,
 *   and its files count as owned by 0:0, as BuildKit's client sends them (client/solve.go
 *   resets uid and gid of every context file).
 * - `rootfs`: the file system of another stage or of an image (`COPY --from`), mounted
 *   read-only by the solver: owners are kept.
 */
export interface CopySourceRoot {
  readonly kind: 'context' | 'rootfs';
  readonly dir: string;
  /** Context only: the `.dockerignore` rules; paths they exclude are absent. */
  readonly ignore?: ContextFilter;
  /** Names the source in messages (`build context`, `stage builder`); a default from `kind`. */
  readonly name?: string;
}

/**
 * What a COPY selects from its source: the fields of a `CopyAction` that decide which files
 * are read. Both the copy (src/solver/file) and its cache key ({@link checksumSources})
 * resolve a selection with the same code, so the key covers exactly what the copy reads.
 */
export interface CopySelection {
  readonly source: CopySourceRoot;
  /** Paths relative to `source.dir` as written (wildcards allowed); `/` and `..` stay inside. */
  readonly sources: readonly string[];
  /** `--exclude` patterns (patternmatcher syntax), matched below each selected source. */
  readonly excludes: readonly string[];
  /** `--parents`: each source keeps its path below the root, or below a `/./` marker. */
  readonly parents: boolean;
  /** Follow a symlink named by a source (or matched by its wildcard): true for COPY and ADD. */
  readonly followSymlinks: boolean;
}

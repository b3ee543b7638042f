import { median } from './sample.ts';
import { timeProcess, type ProcessTiming } from './time-process.ts';

/*
 * The lower bounds bench/build holds `kiln build` to, each measured as a child process the
 * way kiln is (same spawn path, same page cache), in the same run: what no build tool
 * written in Node, reading the same context and running the same steps, could go under.
 */

/** `node -e 0`: Node's own start and exit, the floor of any kiln command (and its memory). */
export async function nodeStart(): Promise<ProcessTiming> {
  return timeProcess([process.execPath, '-e', '0']);
}

/**
 * Ingesting a context: `cp -a CONTEXT INTO` then `sha256sum` of every file of the copy:
 * reading, copying and hashing every byte once, as a cold COPY of it must. INTO must not
 * exist; the copy is left for the caller to remove once measuring is over (see bench/build.ts
 * on why nothing is deleted between runs). ms.
 */
export async function ingestContext(context: string, into: string): Promise<number> {
  const script = 'cp -a "$1" "$2" && cd "$2" && find . -type f -print0 | xargs -0 sha256sum > /dev/null';
  const { ms } = await timeProcess(['bash', '-o', 'pipefail', '-c', script, 'ingest', context, into]);
  return ms;
}

/**
 * A stat walk of a context (`find -printf` of each file's size, times and inode): what telling
 * an unchanged context from a changed one needs when no file is read. ms.
 */
export async function statWalk(context: string): Promise<number> {
  const { ms } = await timeProcess(['sh', '-c', "find \"$1\" -printf '%s %T@ %C@ %i\\n' > /dev/null", 'walk', context]);
  return ms;
}

/**
 * One sandboxed step at its barest: `unshare --mount --pid --net --uts --ipc --fork chroot
 * ROOTFS /bin/true`, the median of `samples` runs (it is a few ms, so one run is noise). ms.
 */
export async function sandboxStep(rootfs: string, samples = 15): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const { ms } = await timeProcess(['unshare', '--mount', '--pid', '--net', '--uts', '--ipc', '--fork', 'chroot', rootfs, '/bin/true']);
    times.push(ms);
  }
  return median(times);
}

/**
 * Exporting a tree: `tar -cf INTO -C DIR .`, reading every file and writing one uncompressed
 * tar, the floor of writing an image of that tree to a tarball. INTO must not exist; it is
 * left for the caller to remove once measuring is over. ms.
 */
export async function exportTar(dir: string, into: string): Promise<number> {
  const { ms } = await timeProcess(['tar', '-cf', into, '-C', dir, '.']);
  return ms;
}

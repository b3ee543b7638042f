import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors/index.ts';
import { currentOwner, isAlive } from '../owner/index.ts';
import type { RunResources } from './executor.ts';

/** The controllers a {@link RunResources} limit needs. */
export type CgroupController = 'memory' | 'pids' | 'cpu';

/**
 * Where a controller is available: a cgroup v1 hierarchy mounted at `mount` with that
 * controller, or the cgroup v2 hierarchy mounted at `mount` (cgroups(7)).
 */
export interface CgroupHierarchy {
  readonly kind: 'v1' | 'v2';
  readonly mount: string;
}

/** The hierarchy each controller is used through; a controller absent is unavailable. */
export type CgroupHierarchies = Readonly<Partial<Record<CgroupController, CgroupHierarchy>>>;

const CONTROLLERS: readonly CgroupController[] = ['memory', 'pids', 'cpu'];

/** The directory under each hierarchy's root holding kiln's run cgroups. */
const KILN_DIR = 'kiln';

/** cfs_period_us / the period of cpu.max: 100 ms, the kernel's and Docker's default. */
const CPU_PERIOD_US = 100_000;

/**
 * Chooses the hierarchy of each controller from the mount table (`mountinfo`, as
 * /proc/self/mountinfo): v2 when the v2 root's cgroup.controllers lists it, else v1 when a v1
 * hierarchy with it is mounted (its root at `/`); neither leaves it out.
 */
export async function detectCgroupHierarchies(mountinfo = '/proc/self/mountinfo'): Promise<CgroupHierarchies> {
  const found: Partial<Record<CgroupController, CgroupHierarchy>> = {};
  let v2: string | undefined;
  const v1 = new Map<CgroupController, string>();
  for (const line of (await readFile(mountinfo, 'utf8')).split('\n')) {
    // proc(5): ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPEROPTIONS
    const [before, after] = line.split(' - ');
    if (before === undefined || after === undefined) continue;
    const fields = before.split(' ');
    const [fstype, , superOptions = ''] = after.split(' ');
    const root = fields[3];
    const mountPoint = unescapeMountinfo(fields[4] ?? '');
    if (root !== '/') continue;
    if (fstype === 'cgroup2') v2 ??= mountPoint;
    if (fstype === 'cgroup') {
      for (const option of superOptions.split(',')) {
        const controller = CONTROLLERS.find((name) => name === option);
        if (controller !== undefined && !v1.has(controller)) v1.set(controller, mountPoint);
      }
    }
  }
  const v2Controllers =
    v2 === undefined
      ? []
      : (await readFile(join(v2, 'cgroup.controllers'), 'utf8').catch(() => '')).split(/\s+/);
  for (const controller of CONTROLLERS) {
    if (v2 !== undefined && v2Controllers.includes(controller)) found[controller] = { kind: 'v2', mount: v2 };
    else if (v1.has(controller)) found[controller] = { kind: 'v1', mount: v1.get(controller)! };
  }
  return found;
}

/** The controllers `resources` needs a limit in. */
export function neededControllers(resources: RunResources): CgroupController[] {
  const needed: CgroupController[] = [];
  if (resources.memory !== undefined || resources.memorySwap !== undefined) needed.push('memory');
  if (resources.pids !== undefined) needed.push('pids');
  if (resources.cpus !== undefined) needed.push('cpu');
  return needed;
}

/**
 * The cgroups of one run, one per hierarchy its limits need, named `kiln/PID-START-RUNID` after
 * their owner (src/owner) so a later kiln removes what a dead one left
 * ({@link removeAbandonedCgroups}). Created with their limits written; the sandbox joins them
 * through {@link RunCgroups.procsFiles} before its command runs; {@link RunCgroups.remove}
 * releases them on every path.
 */
export interface RunCgroups {
  /** The cgroup.procs file of each cgroup, for the sandbox to write itself into. */
  readonly procsFiles: readonly string[];
  /** Whether the kernel's OOM killer killed a process of the run's memory cgroup. */
  oomKilled(): Promise<boolean>;
  /** Kills what is left in the cgroups and removes them. */
  remove(): Promise<void>;
}

/**
 * Creates the cgroups `resources` needs and writes its limits.
 *
 * @throws InputError naming a controller no hierarchy provides, or an invalid limit; the
 * cgroups made so far are removed.
 */
export async function createRunCgroups(resources: RunResources, hierarchies: CgroupHierarchies): Promise<RunCgroups> {
  validate(resources);
  const needed = neededControllers(resources);
  for (const controller of needed) {
    if (hierarchies[controller] === undefined) {
      throw new InputError(`the ${controller} cgroup controller is not available on this host: a ${controller} limit cannot apply`, {
        hint: `mount a cgroup v1 hierarchy with ${controller}, or enable it in the cgroup v2 root's cgroup.controllers`,
      });
    }
  }
  const owner = currentOwner();
  const name = `${owner.pid}-${owner.start}-${randomBytes(4).toString('hex')}`;
  // One cgroup per hierarchy: v2 holds all its controllers in one.
  const dirs = new Map<string, { hierarchy: CgroupHierarchy; controllers: CgroupController[] }>();
  for (const controller of needed) {
    const hierarchy = hierarchies[controller]!;
    const dir = join(hierarchy.mount, KILN_DIR, name);
    const entry = dirs.get(dir) ?? { hierarchy, controllers: [] };
    entry.controllers.push(controller);
    dirs.set(dir, entry);
  }
  const made: string[] = [];
  const cgroups: RunCgroups = {
    procsFiles: [...dirs.keys()].map((dir) => join(dir, 'cgroup.procs')),
    oomKilled: async () => {
      const memory = hierarchies.memory;
      if (!needed.includes('memory') || memory === undefined) return false;
      return await readOomKilled(join(memory.mount, KILN_DIR, name), memory.kind);
    },
    remove: async () => {
      for (const dir of made) await removeCgroup(dir);
    },
  };
  try {
    for (const [dir, { hierarchy, controllers }] of dirs) {
      if (hierarchy.kind === 'v2') await enableV2(hierarchy.mount, controllers);
      else await mkdir(join(hierarchy.mount, KILN_DIR), { recursive: true });
      await mkdir(dir);
      made.push(dir);
      for (const controller of controllers) await writeLimits(dir, hierarchy.kind, controller, resources);
    }
  } catch (error) {
    await cgroups.remove();
    throw error;
  }
  return cgroups;
}

/**
 * Removes the run cgroups of dead owners under each hierarchy's kiln directory, killing what
 * is left in them first. Those of live owners (this process included) stay.
 */
export async function removeAbandonedCgroups(hierarchies: CgroupHierarchies): Promise<void> {
  const parents = new Set(Object.values(hierarchies).map((hierarchy) => join(hierarchy.mount, KILN_DIR)));
  for (const parent of parents) {
    const entries = await readdir(parent).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    for (const entry of entries) {
      const match = /^(\d+)-(\d+)-[0-9a-f]+$/.exec(entry);
      if (match === null) continue;
      if (!isAlive({ pid: Number(match[1]), start: Number(match[2]) })) await removeCgroup(join(parent, entry));
    }
  }
}

function validate(resources: RunResources): void {
  const positiveInteger = (name: string, value: number | undefined): void => {
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      throw new InputError(`resources.${name} must be a positive integer, got ${value}`);
    }
  };
  positiveInteger('memory', resources.memory);
  positiveInteger('memorySwap', resources.memorySwap);
  positiveInteger('pids', resources.pids);
  if (resources.memorySwap !== undefined && (resources.memory === undefined || resources.memorySwap < resources.memory)) {
    throw new InputError('resources.memorySwap (memory plus swap) needs resources.memory, and must not be below it');
  }
  if (resources.cpus !== undefined && !(Number.isFinite(resources.cpus) && resources.cpus * CPU_PERIOD_US >= 1000)) {
    throw new InputError(`resources.cpus must be at least 0.01, got ${resources.cpus}`);
  }
}

/** Makes `mount`/kiln and enables `controllers` for its children (cgroup v2 subtree_control). */
async function enableV2(mount: string, controllers: readonly CgroupController[]): Promise<void> {
  const kiln = join(mount, KILN_DIR);
  const enable = controllers.map((controller) => `+${controller}`).join(' ');
  await writeFile(join(mount, 'cgroup.subtree_control'), enable);
  await mkdir(kiln, { recursive: true });
  await writeFile(join(kiln, 'cgroup.subtree_control'), enable);
}

async function exists(path: string): Promise<boolean> {
  return await access(path).then(
    () => true,
    () => false,
  );
}

async function writeLimits(
  dir: string,
  kind: CgroupHierarchy['kind'],
  controller: CgroupController,
  resources: RunResources,
): Promise<void> {
  switch (controller) {
    case 'memory': {
      const memory = resources.memory!;
      // Without memorySwap no swap at all: the limit is what the run may use.
      const total = resources.memorySwap ?? memory;
      if (kind === 'v1') {
        // memsw is memory plus swap and may not be below limit_in_bytes: written after it.
        await writeFile(join(dir, 'memory.limit_in_bytes'), String(memory));
        const memsw = join(dir, 'memory.memsw.limit_in_bytes');
        if (await exists(memsw)) await writeFile(memsw, String(total));
        else if (resources.memorySwap !== undefined) throw missingSwap();
      } else {
        await writeFile(join(dir, 'memory.max'), String(memory));
        const swap = join(dir, 'memory.swap.max');
        if (await exists(swap)) await writeFile(swap, String(total - memory));
        else if (resources.memorySwap !== undefined) throw missingSwap();
      }
      return;
    }
    case 'pids':
      await writeFile(join(dir, 'pids.max'), String(resources.pids));
      return;
    case 'cpu': {
      const quota = Math.round(resources.cpus! * CPU_PERIOD_US);
      if (kind === 'v1') {
        await writeFile(join(dir, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
        await writeFile(join(dir, 'cpu.cfs_quota_us'), String(quota));
      } else {
        await writeFile(join(dir, 'cpu.max'), `${quota} ${CPU_PERIOD_US}`);
      }
      return;
    }
  }
}

function missingSwap(): InputError {
  return new InputError('resources.memorySwap cannot apply: the kernel does not account swap in the memory cgroup', {
    hint: 'boot with swapaccount=1, or leave memorySwap out',
  });
}

/** v1: memory.oom_control's `oom_kill N` (Linux 4.13); v2: memory.events' `oom_kill N`. */
async function readOomKilled(dir: string, kind: CgroupHierarchy['kind']): Promise<boolean> {
  const text = await readFile(join(dir, kind === 'v1' ? 'memory.oom_control' : 'memory.events'), 'utf8');
  const match = /^oom_kill (\d+)$/m.exec(text);
  return match !== null && Number(match[1]) > 0;
}

/**
 * Kills the processes left in `dir` and removes it, retrying while the killed ones leave
 * (rmdir fails with EBUSY until they are reaped). A cgroup already gone is fine.
 */
async function removeCgroup(dir: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const procs = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (procs === undefined) return;
    for (const pid of procs.split('\n').filter((line) => line !== '')) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A mount point as mountinfo escapes it (octal \040 for a space, proc(5)). */
function unescapeMountinfo(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

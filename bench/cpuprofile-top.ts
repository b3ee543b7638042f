import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/*
 * Reads a V8 .cpuprofile (`node --cpu-prof dist/cli.cjs …`) and lists where the time went:
 * self time and total (inclusive) time by function, mapped through the bundle's source maps
 * back to src/ where a map is beside the bundle, plus idle, GC and the program's own.
 *
 *   node --import tsx bench/cpuprofile-top.ts FILE.cpuprofile [COUNT]
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

/** The parts of V8's CPU profile format this reads. */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** One function's share of a profile, in ms. */
export interface FunctionTime {
  /** `name (file:line)`, the file mapped back to its source where a map was found. */
  readonly function: string;
  readonly selfMs: number;
  readonly totalMs: number;
}

/** A profile summed up: its wall-clock span and every function by self time, largest first. */
export interface ProfileSummary {
  readonly wallMs: number;
  readonly functions: readonly FunctionTime[];
}

/**
 * Sums a profile's samples by function: self time is the time of samples whose top frame is
 * the function; total time adds samples where it is anywhere on the stack (counted once per
 * sample, so recursion does not inflate it). Frames of a bundle with a `.map` beside it are
 * named by their original file and line.
 */
export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const maps = new Map<string, SourceMap | undefined>();
  const names = new Map<number, string>();
  const nameOf = (id: number): string => {
    let name = names.get(id);
    if (name === undefined) {
      name = describe(byId.get(id)?.callFrame, maps);
      names.set(id, name);
    }
    return name;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    // A sample's delta is the time since the previous sample: charge it to this sample's stack.
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const id = profile.samples[i];
    if (id === undefined) continue;
    const top = nameOf(id);
    self.set(top, (self.get(top) ?? 0) + ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = nameOf(at);
      if (seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + ms);
    }
  }
  const functions = [...total.entries()]
    .map(([name, totalMs]) => ({ function: name, selfMs: self.get(name) ?? 0, totalMs }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return { wallMs: (profile.endTime - profile.startTime) / 1000, functions };
}

function describe(frame: CallFrame | undefined, maps: Map<string, SourceMap | undefined>): string {
  if (frame === undefined) return '(unknown)';
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return name;
  const map = sourceMapOf(frame.url, maps);
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber);
  if (entry !== undefined && 'originalSource' in entry) {
    const source = entry.originalSource.replace(/^.*?\/(src|node_modules)\//, '$1/');
    return `${name} (${source}:${entry.originalLine + 1})`;
  }
  const file = frame.url.replace(/^.*\//, '');
  return `${name} (${file}:${frame.lineNumber + 1})`;
}

function sourceMapOf(url: string, maps: Map<string, SourceMap | undefined>): SourceMap | undefined {
  if (maps.has(url)) return maps.get(url);
  let map: SourceMap | undefined;
  try {
    const path = url.startsWith('file:') ? fileURLToPath(url) : url;
    map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')));
  } catch {
    map = undefined;
  }
  maps.set(url, map);
  return map;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, count = '25'] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: node --import tsx bench/cpuprofile-top.ts FILE.cpuprofile [COUNT]\n');
    process.exit(2);
  }
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  const rows = summary.functions.slice(0, Number(count));
  process.stdout.write(`${file}: ${summary.wallMs.toFixed(0)} ms profiled\n     self    total  function\n`);
  for (const row of rows) {
    process.stdout.write(`${row.selfMs.toFixed(1).padStart(9)}${row.totalMs.toFixed(1).padStart(9)}  ${row.function}\n`);
  }
}

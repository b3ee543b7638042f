import { formatSeconds } from './format-seconds.ts';
import type { ProgressTrace, TracedVertex } from './progress-trace.ts';
import { cutToWidth, displayWidth, terminalLine } from './terminal-text.ts';

/** How many of a running step's last output lines the live view shows beneath it. */
export const LOG_TAIL = 6;

/** What a frame is drawn for. */
export interface TtyFrameOptions {
  /** Since the build began, for the header. */
  readonly elapsed: number;
  /** Now on the events' clock, for the time of running steps. */
  readonly now: number;
  /** Terminal columns; every line stays below this, so that none wraps. */
  readonly width: number;
  /** At most this many lines (the terminal's rows less one), or no limit. */
  readonly height: number | undefined;
  /** The last frame: `FINISHED` when every step ended, no output lines, no height limit. */
  readonly final: boolean;
  /** Colour completed steps as buildx does (blue done, red error, yellow canceled, faint output). */
  readonly color: boolean;
}

const SGR = { blue: '\x1b[34m', red: '\x1b[31m', yellow: '\x1b[33m', faint: '\x1b[2m', reset: '\x1b[0m' } as const;

interface Entry {
  readonly line: string;
  readonly running: boolean;
  readonly output: readonly string[];
}

/**
 * The live view as lines, in buildx's look:
 *
 *     [+] Building 3.2s (5/9)
 *      => CACHED [stage-0 1/3] FROM busybox                0.0s
 *      => [stage-0 2/3] RUN make                           1.2s
 *      => => # cc -c main.c
 *      => ERROR [stage-0 3/3] RUN false                    0.1s
 *
 * One line per step that started (in the order they started), its state before the name and
 * its time on the right; the last {@link LOG_TAIL} output lines beneath running steps. When
 * the lines exceed `height`, running steps stay, then their output, then the latest ended steps.
 */
export function ttyFrame(trace: ProgressTrace, options: TtyFrameOptions): string[] {
  const { width, final, color } = options;
  const columns = Math.max(1, width - 1);
  const total = trace.vertices.size;
  const completed = trace.completed;
  const finished = final && total > 0 && completed === total ? ' FINISHED' : '';
  const header = cutToWidth(`[+] Building ${formatSeconds(options.elapsed)}s (${completed}/${total})${finished}`, columns);

  let entries: Entry[] = trace.shown.map((v) => ({
    line: paint(vertexLine(v, options.now, columns), color ? colorOf(v) : undefined),
    running: !v.ended,
    output: final || v.ended ? [] : v.tail(LOG_TAIL).map((l) => paint(cutToWidth(` => => # ${terminalLine(l)}`, columns), color ? SGR.faint : undefined)),
  }));

  if (!final && options.height !== undefined) entries = fit(entries, Math.max(0, options.height - 1));
  const lines = [header];
  for (const entry of entries) lines.push(entry.line, ...entry.output);
  return lines;
}

/** The entries that fit in `budget` lines: running steps first, then their output, then the latest ended steps. */
function fit(entries: readonly Entry[], budget: number): Entry[] {
  const running = entries.filter((e) => e.running);
  if (running.length >= budget) return running.slice(running.length - budget).map((e) => ({ ...e, output: [] }));
  let room = budget - running.length;
  const kept = new Map<Entry, Entry>();
  for (const e of running) {
    const output = e.output.slice(e.output.length - Math.min(room, e.output.length));
    room -= output.length;
    kept.set(e, { ...e, output });
  }
  const ended = entries.filter((e) => !e.running);
  for (const e of ended.slice(Math.max(0, ended.length - room))) kept.set(e, e);
  return entries.flatMap((e) => kept.get(e) ?? []);
}

function vertexLine(v: TracedVertex, now: number, columns: number): string {
  const label = v.state === 'cached' ? 'CACHED ' : v.state === 'error' ? 'ERROR ' : v.state === 'canceled' ? 'CANCELED ' : '';
  const start = v.startedAt ?? now;
  const ms = v.state === 'cached' ? 0 : (v.endedAt ?? now) - start;
  const timer = `${formatSeconds(ms)}s`;
  const left = ` => ${label}${terminalLine(v.name)}`;
  const room = columns - timer.length - 1;
  // Below a dozen columns for the name, the time would push it out: show the name alone.
  if (room < 12) return cutToWidth(left, columns);
  const cut = cutToWidth(left, room);
  return `${cut}${' '.repeat(room - displayWidth(cut))} ${timer}`;
}

function colorOf(v: TracedVertex): string | undefined {
  switch (v.state) {
    case 'error':
      return SGR.red;
    case 'canceled':
      return SGR.yellow;
    case 'cached':
    case 'done':
      return SGR.blue;
    default:
      return undefined;
  }
}

function paint(line: string, sgr: string | undefined): string {
  return sgr === undefined ? line : `${sgr}${line}${SGR.reset}`;
}

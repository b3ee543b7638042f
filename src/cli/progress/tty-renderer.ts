import type { ProgressEvent } from '../../solver/index.ts';
import { formatVertexFailure } from './build-failure.ts';
import type { ProgressOutput, ProgressRenderer } from './progress-renderer.ts';
import { ProgressTrace } from './progress-trace.ts';
import { terminalLine } from './terminal-text.ts';
import { ttyFrame } from './tty-frame.ts';
import { writeLast } from './write-last.ts';

/** The live view's redraw period: at most ten frames a second. */
export const REDRAW_MS = 100;

// ECMA-48 control sequences; no terminal library, these four are all the view needs.
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const ERASE_LINE_END = '\x1b[K';
const ERASE_BELOW = '\x1b[J';
const up = (n: number) => (n > 0 ? `\x1b[${n}A` : '');

/**
 * `tty`: a live region at the bottom of the terminal ({@link ttyFrame}), redrawn in place by
 * moving the cursor up over the last frame, at most every {@link REDRAW_MS} ms while anything
 * changed or runs. Build messages print as static lines above the region. `close` stops the
 * timer, draws the final frame and prints the failure excerpt below it. Nothing is drawn before
 * the first event, so a build that fails before solving prints no empty header.
 */
export function createTtyRenderer(options: {
  readonly out: ProgressOutput;
  readonly source: (file: string) => string | undefined;
  readonly now: () => number;
  /** Where `NO_COLOR` is read (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
}): ProgressRenderer {
  const { out, source, now } = options;
  const env = options.env ?? process.env;
  // https://no-color.org: present and not empty turns colour off.
  const color = env.NO_COLOR === undefined || env.NO_COLOR === '';
  const trace = new ProgressTrace();
  const pending: string[] = [];
  let began: number | undefined; // local clock
  let skew = 0; // local clock − events' clock, as of the first event
  let drawn = 0; // lines of the region on screen
  let dirty = false;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const frame = (final: boolean): string[] => {
    const t = now();
    const rows = out.rows;
    return ttyFrame(trace, {
      elapsed: t - (began ?? t),
      now: t - skew,
      width: out.columns !== undefined && out.columns > 0 ? out.columns : 80,
      height: rows !== undefined && rows > 1 ? rows - 1 : undefined,
      final,
      color,
    });
  };

  /** Replaces the region on screen: static lines first (they stay), then the new frame. */
  const draw = (final: boolean): string => {
    const statics = pending.splice(0).map((l) => `${l}${ERASE_LINE_END}\n`);
    const lines = frame(final).map((l) => `${l}${ERASE_LINE_END}\n`);
    const text = `${HIDE_CURSOR}${up(drawn)}\r${statics.join('')}${lines.join('')}${ERASE_BELOW}${SHOW_CURSOR}`;
    drawn = lines.length;
    dirty = false;
    return text;
  };

  const tick = () => {
    try {
      if (closed) return;
      let running = false;
      for (const v of trace.shown) running ||= !v.ended;
      if (dirty || running) out.write(draw(false));
    } catch {
      // Progress is a view: a failure to show it must not fail the build.
    }
  };

  return {
    write(event: ProgressEvent): void {
      if (closed) return;
      try {
        if (began === undefined) {
          began = now();
          skew = began - event.time;
          timer = setInterval(tick, REDRAW_MS);
          // A caller that dies before close must not be kept alive by the view.
          timer.unref();
        }
        trace.apply(event);
        if (event.kind === 'message') {
          const text = terminalLine(event.text);
          pending.push(event.level === 'warning' ? `WARNING: ${text}` : text);
        }
        dirty = true;
      } catch {
        // As in tick.
      }
    },
    close(): Promise<void> {
      if (closed) return Promise.resolve();
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      let text = '';
      try {
        if (began !== undefined) {
          text = draw(true);
          if (trace.firstError !== undefined) text += `${formatVertexFailure(trace.firstError, source)}\n`;
        }
      } catch {
        // As in tick.
      }
      return writeLast(out, text);
    },
  };
}

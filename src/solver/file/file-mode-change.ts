import { InternalError, UsageError } from '../../errors/index.ts';

/**
 * `COPY --chmod` parsed: an octal mode, or a symbolic one (Dockerfile 1.14+) as chmod(1)
 * writes it, `u+x,g-w,o=`. Plain data; {@link applyModeChange} applies it.
 */
export type ModeChange =
  | { readonly kind: 'octal'; readonly mode: number }
  | { readonly kind: 'symbolic'; readonly text: string; readonly commands: readonly ModeCommand[] };

/**
 * One step of a symbolic mode, in order (the command list of BSD setmode(3), which
 * BuildKit's mode package ports): set or clear bits, set bits only for an executable or a
 * directory (`X`), or copy one class's bits (`g=u`) to the target classes.
 */
export type ModeCommand =
  | { readonly op: 'set' | 'clear' | 'set-if-executable'; readonly bits: number }
  | {
      readonly op: 'copy';
      readonly from: 'u' | 'g' | 'o';
      /** Target classes' shifts: 6 (user), 3 (group), 0 (other). */
      readonly to: readonly number[];
      readonly clear: boolean;
      readonly set: boolean;
    };

const SUID = 0o4000;
const SGID = 0o2000;
const STICKY = 0o1000;
/** setuid, setgid and rwx for all: what `a` and an empty who select (not sticky). */
const STANDARD = SUID | SGID | 0o777;
const WHO: Readonly<Record<string, number>> = { a: STANDARD, u: SUID | 0o700, g: SGID | 0o070, o: 0o007 };
const SHIFT: Readonly<Record<'u' | 'g' | 'o', number>> = { u: 6, g: 3, o: 0 };

/**
 * Parses `--chmod` as BuildKit's Dockerfile frontend does: octal digits (at most 07777),
 * else a symbolic mode with chmod(1)'s grammar, `[ugoa]*[-+=]([rwxXst]*|[ugo])` clauses
 * joined by `,` (one clause may chain operators: `u+x-w`).
 *
 * @throws UsageError naming the value when it is neither
 */
export function parseChmod(text: string): ModeChange {
  if (/^[0-7]+$/.test(text)) {
    const mode = Number.parseInt(text, 8);
    if (mode <= 0o7777) return { kind: 'octal', mode };
  }
  const invalid = (): UsageError =>
    new UsageError(`invalid chmod parameter: ${JSON.stringify(text)}`, {
      hint: 'give an octal mode between 0 and 07777 (0755) or a symbolic one (u+x,g-w,o=r)',
    });
  // Anything starting with a digit is meant as a number (BuildKit's "looks numeric" error).
  if (text === '' || /^[0-9]/.test(text)) throw invalid();
  const commands = parseSymbolic(text);
  if (commands === undefined) throw invalid();
  return { kind: 'symbolic', text, commands };
}

/**
 * The permission bits (07777) `change` gives an entry whose st_mode is `mode` (file type
 * included: `X` and directories). Octal replaces them; symbolic edits them, `X` looking at
 * the bits before the change.
 */
export function applyModeChange(change: ModeChange, mode: number, isDirectory: boolean): number {
  if (change.kind === 'octal') return change.mode & 0o7777;
  const before = mode & 0o7777;
  let bits = before;
  for (const command of change.commands) {
    switch (command.op) {
      case 'set':
        bits |= command.bits;
        break;
      case 'clear':
        bits &= ~command.bits;
        break;
      case 'set-if-executable':
        if ((before & 0o111) !== 0 || isDirectory) bits |= command.bits;
        break;
      case 'copy': {
        const value = (bits >> SHIFT[command.from]) & 0o7;
        for (const shift of command.to) {
          // `=` clears the whole class before copying; `-` clears the copied bits.
          if (command.clear) bits &= ~((command.set ? 0o7 : value) << shift);
          if (command.set) bits |= value << shift;
        }
        break;
      }
      default:
        throw new InternalError(`unhandled mode command ${JSON.stringify(command satisfies never)}`);
    }
  }
  return bits & 0o7777;
}

/**
 * The mode of directories a copy creates above its destination: an octal `--chmod`'s
 * permission bits (BuildKit applies it to created parents since fsutil#228), else 0755.
 */
export function createdDirectoryMode(change: ModeChange | undefined): number {
  return change?.kind === 'octal' ? change.mode & 0o777 : 0o755;
}

/** The commands of a symbolic mode, or undefined when it is malformed. */
function parseSymbolic(text: string): ModeCommand[] | undefined {
  const commands: ModeCommand[] = [];
  let at = 0;
  for (;;) {
    let who = 0;
    while (at < text.length && WHO[text[at] as string] !== undefined) {
      who |= WHO[text[at] as string] as number;
      at += 1;
    }
    if (at >= text.length) return undefined;
    // One or more `op perms` after the who list, until a `,` or the end.
    for (;;) {
      const op = text[at];
      if (op !== '+' && op !== '-' && op !== '=') return undefined;
      at += 1;
      // `=` with nothing after it still clears the class (`o=`), once.
      let equalDone = false;
      let perm = 0;
      let permX = 0;
      let target = who & ~STICKY;
      for (; ; at += 1) {
        const ch = text[at];
        if (ch === 'r') perm |= 0o444;
        else if (ch === 'w') perm |= 0o222;
        else if (ch === 'x') perm |= 0o111;
        else if (ch === 'X') {
          if (op === '-') perm |= 0o111;
          else permX = 0o111;
        } else if (ch === 's') {
          // setuid and setgid mean nothing for `o` alone.
          if (target === 0 || (target & ~0o007) !== 0) perm |= SUID | SGID;
        } else if (ch === 't') {
          if (target === 0 || (target & ~0o007) !== 0) {
            target |= STICKY;
            perm |= STICKY;
          }
        } else if (ch === 'u' || ch === 'g' || ch === 'o') {
          if (perm !== 0) {
            push(commands, op, target, perm);
            perm = 0;
          }
          if (op === '=') equalDone = true;
          if (permX !== 0) {
            commands.push({ op: 'set-if-executable', bits: (target === 0 ? ~0 : target) & permX });
            permX = 0;
          }
          commands.push(copyCommand(ch, target, op));
        } else {
          if (perm !== 0 || (op === '=' && !equalDone)) {
            if (op === '=') equalDone = true;
            push(commands, op, target, perm);
          }
          if (permX !== 0) commands.push({ op: 'set-if-executable', bits: (target === 0 ? ~0 : target) & permX });
          break;
        }
      }
      if (at >= text.length) return commands;
      if (text[at] === ',') break;
      // Another operator in the same clause keeps its who list.
      who = target;
    }
    at += 1;
  }
}

/** `+`, `-` or `=` of `perm` for the classes in `who` (all of them when empty). */
function push(commands: ModeCommand[], op: '+' | '-' | '=', who: number, perm: number): void {
  const mask = who === 0 ? ~0 : who;
  if (op === '=') {
    commands.push({ op: 'clear', bits: who === 0 ? STANDARD : who });
    commands.push({ op: 'set', bits: mask & perm });
  } else {
    commands.push({ op: op === '+' ? 'set' : 'clear', bits: mask & perm });
  }
}

function copyCommand(from: 'u' | 'g' | 'o', who: number, op: '+' | '-' | '='): ModeCommand {
  const to = who === 0 ? [6, 3, 0] : [6, 3, 0].filter((shift) => (who & (0o4 << shift)) !== 0);
  return { op: 'copy', from, to, clear: op !== '+', set: op !== '-' };
}

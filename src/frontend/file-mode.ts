/** `--chmod` after checking: an octal mode, or a symbolic one kept as written. */
export type ChmodSpec =
  | { readonly kind: 'octal'; readonly mode: number }
  | { readonly kind: 'symbolic'; readonly text: string };

/**
 * Checks a COPY/ADD `--chmod` value as BuildKit does: octal up to 07777, or a symbolic mode in
 * chmod(1) syntax (`u+x`, `go-w`, `a=rX`, `u=rwx,g=u`).
 * @throws Error with BuildKit's message; the caller adds where.
 */
export function parseChmod(text: string): ChmodSpec {
  const nonOctal = new Error(`invalid chmod parameter: '${text}'. it should be octal string and between 0 and 07777`);
  if (/^[0-7]+$/.test(text)) {
    const mode = Number.parseInt(text, 8);
    if (mode > 0o7777) throw nonOctal;
    return { kind: 'octal', mode };
  }
  // A value that starts like a number is reported as a bad number, as BuildKit does.
  if (/^[0-9]/.test(text)) throw nonOctal;
  parseSymbolic(text);
  return { kind: 'symbolic', text };
}

/** The mode a file of mode `base` gets from `spec` (a directory when `isDir`). */
export function applyChmod(spec: ChmodSpec, base: number, isDir = false): number {
  if (spec.kind === 'octal') return spec.mode;
  let mode = base;
  for (const clause of parseSymbolic(spec.text)) {
    for (const action of clause.actions) {
      const bits = action.copyFrom !== undefined ? copiedBits(mode, action.copyFrom) : permissionBits(action.perms, clause.who, base, isDir);
      const mask = whoMask(clause.who, action.perms.includes('t'));
      const effective = bits & mask;
      if (action.op === '+') mode |= effective;
      else if (action.op === '-') mode &= ~effective;
      else mode = (mode & ~(mask & ~0o1000)) | effective;
    }
  }
  return mode & 0o7777;
}

interface Clause {
  readonly who: string;
  readonly actions: readonly { readonly op: '+' | '-' | '='; readonly perms: string; readonly copyFrom: 'u' | 'g' | 'o' | undefined }[];
}

function parseSymbolic(text: string): Clause[] {
  const syntax = (): Error => new Error(`invalid chmod parameter: '${text}': invalid syntax`);
  if (text === '') throw syntax();
  return text.split(',').map((part) => {
    const match = /^([ugoa]*)((?:[-+=](?:[rwxXst]*|[ugo]))+)$/.exec(part);
    if (match === null) throw syntax();
    const actions = [...(match[2] ?? '').matchAll(/([-+=])([ugo]|[rwxXst]*)/g)].map((m) => {
      const perms = m[2] ?? '';
      const copyFrom: 'u' | 'g' | 'o' | undefined = perms === 'u' || perms === 'g' || perms === 'o' ? perms : undefined;
      return { op: m[1] as '+' | '-' | '=', perms: copyFrom === undefined ? perms : '', copyFrom };
    });
    return { who: match[1] ?? '', actions };
  });
}

/** The bits of the classes in `who`; everyone (with set-id bits) when `who` is empty or `a`. */
function whoMask(who: string, sticky: boolean): number {
  let mask = 0;
  if (who === '' || who.includes('a')) mask = 0o6777;
  if (who.includes('u')) mask |= 0o4700;
  if (who.includes('g')) mask |= 0o2070;
  if (who.includes('o')) mask |= 0o0007;
  // The sticky bit goes with the user/group classes (or with no class named), as BSD setmode.
  if (sticky && (who === '' || /[uga]/.test(who))) mask |= 0o1000;
  return mask;
}

function permissionBits(perms: string, who: string, original: number, isDir: boolean): number {
  let bits = 0;
  const owners = who === '' || /[uga]/.test(who);
  for (const p of perms) {
    if (p === 'r') bits |= 0o444;
    else if (p === 'w') bits |= 0o222;
    else if (p === 'x') bits |= 0o111;
    else if (p === 'X') bits |= isDir || (original & 0o111) !== 0 ? 0o111 : 0;
    else if (p === 's' && owners) bits |= 0o6000;
    else if (p === 't' && owners) bits |= 0o1000;
  }
  return bits;
}

function copiedBits(mode: number, from: 'u' | 'g' | 'o'): number {
  const shift = from === 'u' ? 6 : from === 'g' ? 3 : 0;
  const value = (mode >> shift) & 0o7;
  return value * 0o111;
}

import { InternalError, UsageError } from '../../errors/index.ts';

/*
 * COPY's wildcards, as fsutil's copy.ResolveWildcards and BuildKit's file op see them: a
 * source path is split at its first element holding a wildcard, the part before is a plain
 * path, and every element after is matched with Go's `path/filepath.Match` against one
 * directory level (a `*` never crosses a `/`).
 */

/**
 * Whether `path` holds a wildcard (`*`, `?` or `[`), a `\` escaping the character after it,
 * as fsutil's containsWildcards and BuildKit's file op decide whether a source is a pattern.
 */
export function hasWildcards(path: string): boolean {
  for (let at = 0; at < path.length; at += 1) {
    const ch = path[at];
    if (ch === '\\') at += 1;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}

/**
 * Splits a clean, root-relative path (`a/b*`/`c`) into the elements before the first one
 * with a wildcard (`['a']`) and that one with the rest (`['b*', 'c']`).
 */
export function splitWildcards(path: string): { readonly plain: readonly string[]; readonly patterns: readonly string[] } {
  const elements = path === '' ? [] : path.split('/');
  const first = elements.findIndex(hasWildcards);
  if (first < 0) return { plain: elements, patterns: [] };
  return { plain: elements.slice(0, first), patterns: elements.slice(first) };
}

type Token =
  | { readonly kind: 'char'; readonly cp: number }
  | { readonly kind: 'any' }
  | { readonly kind: 'star' }
  | { readonly kind: 'class'; readonly negated: boolean; readonly ranges: readonly (readonly [number, number])[] };

/**
 * One path element's pattern compiled with the syntax of Go's `filepath.Match` on Unix:
 * `*` any run of characters, `?` one character, `[…]` a class (negated by a leading `^`;
 * members are characters or `lo-hi` ranges; `\` escapes), `\c` the character `c`.
 */
export class ElementPattern {
  readonly text: string;
  readonly #tokens: readonly Token[];

  /** @throws UsageError naming the pattern when it is malformed (Go's ErrBadPattern). */
  constructor(text: string) {
    this.text = text;
    this.#tokens = compile(text);
  }

  /** Whether the whole of `name` (one element, no `/`) matches. */
  matches(name: string): boolean {
    const cps = Array.from(name, (ch) => ch.codePointAt(0) as number);
    const tokens = this.#tokens;
    // The classic glob walk: on a mismatch, let the last star take one more character.
    let t = 0;
    let n = 0;
    let starToken = -1;
    let starName = 0;
    while (n < cps.length) {
      const token = tokens[t];
      if (token !== undefined && token.kind === 'star') {
        starToken = t;
        starName = n;
        t += 1;
        continue;
      }
      if (token !== undefined && matchesOne(token, cps[n] as number)) {
        t += 1;
        n += 1;
        continue;
      }
      if (starToken < 0) return false;
      t = starToken + 1;
      starName += 1;
      n = starName;
    }
    while (tokens[t]?.kind === 'star') t += 1;
    return t === tokens.length;
  }
}

function matchesOne(token: Token, cp: number): boolean {
  switch (token.kind) {
    case 'char':
      return token.cp === cp;
    case 'any':
      return true;
    case 'class': {
      const inside = token.ranges.some(([lo, hi]) => lo <= cp && cp <= hi);
      return inside !== token.negated;
    }
    case 'star':
      return false;
    default:
      throw new InternalError(`unhandled pattern token ${JSON.stringify(token satisfies never)}`);
  }
}

function compile(text: string): Token[] {
  const cps = Array.from(text, (ch) => ch.codePointAt(0) as number);
  const bad = (): UsageError =>
    new UsageError(`syntax error in pattern ${JSON.stringify(text)}`, {
      hint: 'wildcards follow Go filepath.Match: close every [, and escape a literal [, *, ? or \\ with \\',
    });
  const tokens: Token[] = [];
  let at = 0;
  const escaped = (): number => {
    // A class member or a literal: `\` takes the next character as it is.
    let cp = cps[at];
    if (cp === 0x5c) {
      at += 1;
      cp = cps[at];
    }
    if (cp === undefined) throw bad();
    at += 1;
    return cp;
  };
  while (at < cps.length) {
    const cp = cps[at] as number;
    if (cp === 0x2a) {
      // Runs of stars mean one star.
      if (tokens[tokens.length - 1]?.kind !== 'star') tokens.push({ kind: 'star' });
      at += 1;
    } else if (cp === 0x3f) {
      tokens.push({ kind: 'any' });
      at += 1;
    } else if (cp === 0x5b) {
      at += 1;
      const negated = cps[at] === 0x5e;
      if (negated) at += 1;
      const ranges: [number, number][] = [];
      for (;;) {
        if (cps[at] === 0x5d && ranges.length > 0) {
          at += 1;
          break;
        }
        // Go's getEsc: a member may not be a bare `-` or `]`, and the class must go on after it.
        if (cps[at] === 0x2d || cps[at] === 0x5d) throw bad();
        const lo = escaped();
        if (at >= cps.length) throw bad();
        let hi = lo;
        if (cps[at] === 0x2d) {
          at += 1;
          if (cps[at] === 0x2d || cps[at] === 0x5d) throw bad();
          hi = escaped();
          if (at >= cps.length) throw bad();
        }
        ranges.push([lo, hi]);
      }
      tokens.push({ kind: 'class', negated, ranges });
    } else {
      tokens.push({ kind: 'char', cp: escaped() });
    }
  }
  return tokens;
}

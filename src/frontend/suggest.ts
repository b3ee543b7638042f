/**
 * The candidate closest to `value` when it is close enough to be a likely typo (fewer than
 * three edits, as BuildKit's suggest package offers "did you mean …?"), else undefined; none
 * when `value` is itself a candidate. Case is ignored when `caseless`.
 */
export function closestMatch(value: string, candidates: Iterable<string>, caseless = true): string | undefined {
  const fold = (s: string): string => (caseless ? s.toLowerCase() : s);
  const wanted = fold(value);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, fold(candidate));
    if (distance === 0) return undefined;
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // BuildKit's suggest package offers a candidate fewer than three edits away.
  return bestDistance > 0 && bestDistance < 3 ? best : undefined;
}

/** `did you mean X?` for {@link closestMatch}, or undefined. */
export function didYouMean(value: string, candidates: Iterable<string>, caseless = true): string | undefined {
  const match = closestMatch(value, candidates, caseless);
  return match === undefined ? undefined : `did you mean ${match}?`;
}

/** Levenshtein distance, two rows. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

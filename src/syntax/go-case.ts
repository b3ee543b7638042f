/**
 * Go's strings.ToLower: each code point mapped on its own by the Unicode simple case
 * mapping, never expanding. JavaScript's toLowerCase uses the full mapping, which differs in
 * one place: U+0130 (İ) becomes `i` plus a combining dot there, `i` in Go. Instruction names
 * are matched this way, so `WOR\u212ADIR` (a Kelvin sign) is WORKDIR as in BuildKit, and
 * `\u017FHELL` (a long s) is not SHELL.
 */
export function goToLower(text: string): string {
  // Fast path: ASCII, the whole of every real Dockerfile's instruction names.
  if (/^[\x00-\x7f]*$/.test(text)) return text.toLowerCase();
  let out = '';
  for (const ch of text) out += ch === '\u0130' ? 'i' : ch.toLowerCase();
  return out;
}

export { contentXattrs, fileEntry, seconds } from '../image/layer/index.ts';

/** Whether two sets of attributes hold the same names and values. */
export function sameXattrs(a: Readonly<Record<string, Buffer>>, b: Readonly<Record<string, Buffer>>): boolean {
  const names = Object.keys(a);
  if (names.length !== Object.keys(b).length) return false;
  return names.every((name) => b[name] !== undefined && a[name]!.equals(b[name]));
}

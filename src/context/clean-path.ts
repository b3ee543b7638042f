/**
 * Lexical path cleaning with the rules of Go's `path/filepath.Clean` on Unix, which
 * `.dockerignore` handling applies to every pattern: repeated slashes collapse, `.` elements
 * go, `..` removes the element before it (and is dropped at the root of a rooted path),
 * and a trailing slash goes. An empty path cleans to `.`.
 *
 * Purely lexical: symlinks are not consulted, so `a/../b` is `b` whatever `a` is.
 */
export function cleanPath(path: string): string {
  // Walkers hand over clean paths; answering those without splitting keeps matching cheap.
  if (isClean(path)) return path;
  if (path === '') return '.';
  const rooted = path.startsWith('/');
  const kept: string[] = [];
  for (const element of path.split('/')) {
    if (element === '' || element === '.') continue;
    if (element !== '..') {
      kept.push(element);
    } else if (kept.length > 0 && kept[kept.length - 1] !== '..') {
      kept.pop();
    } else if (!rooted) {
      // A relative path keeps the `..` it cannot cancel; `/..` is just `/`.
      kept.push('..');
    }
  }
  const body = kept.join('/');
  if (rooted) return `/${body}`;
  return body === '' ? '.' : body;
}

/**
 * The directory part of a slash-separated path with the rules of Go's `filepath.Dir`: all
 * but the last element, cleaned; `.` when the path has no slash. Note that a trailing slash
 * counts as the last separator, so the parent of `a/b/` is `a/b`.
 */
export function parentPath(path: string): string {
  const cut = path.lastIndexOf('/');
  if (cut < 0) return '.';
  // Cleaning drops the separator anyway, so cut before it (keeping a lone root `/`).
  return cleanPath(cut === 0 ? '/' : path.slice(0, cut));
}

/** True when no element is empty, `.` or `..` and there is no trailing slash (or it is `/`). */
function isClean(path: string): boolean {
  if (path === '/') return true;
  if (path === '' || path.endsWith('/')) return false;
  let start = path.startsWith('/') ? 1 : 0;
  for (;;) {
    const end = path.indexOf('/', start);
    const stop = end < 0 ? path.length : end;
    const length = stop - start;
    if (length === 0) return false;
    // `..` can be clean (`../a`), but the slow path knows when; this only has to be fast.
    if (length <= 2 && path.charCodeAt(start) === 0x2e && (length === 1 || path.charCodeAt(start + 1) === 0x2e)) {
      return false;
    }
    if (end < 0) return true;
    start = end + 1;
  }
}

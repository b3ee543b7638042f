import test from 'ava';
import { OPAQUE_WHITEOUT, opaqueWhiteoutEntry, parseWhiteout, whiteoutEntry } from './index.ts';

test('whiteoutEntry names .wh.<base> beside the deleted path, an empty root-owned file', (t) => {
  t.deepEqual(whiteoutEntry('etc/passwd'), { path: 'etc/.wh.passwd', type: 'file', mode: 0, uid: 0, gid: 0, mtime: 0, size: 0 });
  t.is(whiteoutEntry('top').path, '.wh.top');
  t.is(whiteoutEntry('a/b', 1234).mtime, 1234);
});

test('opaqueWhiteoutEntry marks a directory, the root included', (t) => {
  t.is(opaqueWhiteoutEntry('var/cache').path, `var/cache/${OPAQUE_WHITEOUT}`);
  t.is(opaqueWhiteoutEntry('').path, OPAQUE_WHITEOUT);
});

test('parseWhiteout reads both kinds back and ignores ordinary paths', (t) => {
  t.deepEqual(parseWhiteout('etc/.wh.passwd'), { kind: 'whiteout', target: 'etc/passwd' });
  t.deepEqual(parseWhiteout('.wh.top'), { kind: 'whiteout', target: 'top' });
  t.deepEqual(parseWhiteout('var/cache/.wh..wh..opq'), { kind: 'opaque', dir: 'var/cache' });
  t.deepEqual(parseWhiteout('.wh..wh..opq'), { kind: 'opaque', dir: '' });
  t.is(parseWhiteout('etc/passwd'), undefined);
  t.is(parseWhiteout('etc/x.wh.y'), undefined);
});

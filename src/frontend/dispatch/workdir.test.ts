import test from 'ava';
import { build, execOf, fileOf, names, newHistory, vertexNamed } from '../compile-fixture.ts';
import { normalizeWorkdir } from './workdir.ts';

test('WORKDIR makes the directory, owned by the USER at that point, as a layer', async (t) => {
  const r = await build('FROM busybox\nUSER app\nWORKDIR /home/app\n');
  t.deepEqual(fileOf(r, 'WORKDIR').actions, [{ kind: 'mkdir', path: '/home/app', mode: 0o755, chown: 'app' }]);
  t.is(r.config.config?.WorkingDir, '/home/app');
  t.deepEqual(newHistory(r)[1], { created_by: 'WORKDIR /home/app', comment: 'buildkit.dockerfile.v0' });
});

test('a relative WORKDIR is joined to the previous one; variables are expanded', async (t) => {
  const r = await build('FROM busybox\nENV BASE=/srv\nWORKDIR $BASE\nWORKDIR app/../web\nRUN pwd\n');
  t.is(execOf(r, 'pwd').cwd, '/srv/web');
  t.is(r.config.config?.WorkingDir, '/srv/web');
  t.is(vertexNamed(r, 'WORKDIR /srv').name, '[2/4] WORKDIR /srv');
  t.is(names(r)[2], '[3/4] WORKDIR app/../web');
});

test('WORKDIR / changes no file system and has an empty-layer history entry', async (t) => {
  const r = await build('FROM busybox\nWORKDIR /app\nWORKDIR /\nRUN pwd\n');
  t.is(execOf(r, 'pwd').cwd, '/');
  t.is(vertexNamed(r, 'pwd').inputs[0]?.name, '[2/4] WORKDIR /app');
  t.deepEqual(newHistory(r)[1], { created_by: 'WORKDIR /', comment: 'buildkit.dockerfile.v0', empty_layer: true });
});

test('normalizeWorkdir keeps an absolute path as written and cleans a joined one', (t) => {
  t.is(normalizeWorkdir(undefined, 'a'), '/a');
  t.is(normalizeWorkdir('/x', '/y/'), '/y/');
  t.is(normalizeWorkdir('/x', '../y'), '/y');
  t.is(normalizeWorkdir('rel', 'z'), '/rel/z');
});

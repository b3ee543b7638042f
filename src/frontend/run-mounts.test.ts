import test from 'ava';
import { DockerfileError } from '../errors/index.ts';
import { build, execOf, vertexNamed } from './compile-fixture.ts';
import { csvFields, mountFrom, parseRunMount } from './run-mounts.ts';

const asIs = (w: string): string => w;

test('a mount without type is a read-only bind; cache and tmpfs default to writable', (t) => {
  t.like(parseRunMount('target=/src', asIs), { type: 'bind', readOnly: true, from: '', source: '' });
  t.like(parseRunMount('type=cache,target=/c', asIs), { type: 'cache', readOnly: false, sharing: undefined });
  t.like(parseRunMount('type=tmpfs,target=/t', asIs), { type: 'tmpfs', readOnly: false });
  t.like(parseRunMount('type=secret,id=x', asIs), { type: 'secret', readOnly: true, required: false });
});

test('every option and alias is read, bare flags included', (t) => {
  const m = parseRunMount('type=cache,id=go,dst=/root/go,src=sub,from=builder,sharing=LOCKED,mode=0700,uid=1000,gid=100,ro', asIs);
  t.deepEqual(m, {
    type: 'cache', from: 'builder', source: 'sub', target: '/root/go', readOnly: true, sizeLimit: 0, id: 'go',
    sharing: 'locked', required: false, env: undefined, mode: 0o700, uid: 1000, gid: 100,
  });
  t.like(parseRunMount('type=bind,source=a,destination=/b,rw', asIs), { readOnly: false, source: 'a', target: '/b' });
  t.like(parseRunMount('type=bind,target=/b,readwrite=true', asIs), { readOnly: false });
  t.like(parseRunMount('type=bind,target=/b,readonly=false', asIs), { readOnly: false });
  t.like(parseRunMount('type=secret,id=k,required,env=KEY', asIs), { required: true, env: 'KEY' });
  t.like(parseRunMount('type=ssh,required=true', asIs), { type: 'ssh', required: true });
  t.like(parseRunMount('type=tmpfs,target=/t,size=1.5g', asIs), { sizeLimit: 1.5 * 1024 ** 3 });
  t.like(parseRunMount('TYPE=TMPFS,Target=/t,size=512KiB', asIs), { type: 'tmpfs', sizeLimit: 512 * 1024, target: '/t' });
});

test('values are expanded after the CSV split', (t) => {
  const env: Record<string, string> = { T: '/cache,x', ID: 'mod' };
  const m = parseRunMount('type=cache,"target=$T",id=$ID', (w) => w.replace(/\$(\w+)/g, (_, n: string) => env[n] ?? ''));
  t.is(m.target, '/cache,x');
  t.is(m.id, 'mod');
});

test('invalid mounts are refused with BuildKit\'s messages', (t) => {
  const cases: [string, string][] = [
    ['type=volume,target=/x', 'unsupported mount type "volume"'],
    ['type=cache,target=/x,sharing=open', 'unsupported sharing value "open"'],
    ['type=bind,target=/x,mode=0755', 'mode not allowed for "bind" type mounts'],
    ['type=tmpfs,target=/x,uid=1', 'uid not allowed for "tmpfs" type mounts'],
    ['type=bind,target=/x,gid=1', 'gid not allowed for "bind" type mounts'],
    ['type=bind,target=/x,size=1m', "unexpected key 'size' for mount type 'bind'"],
    ['type=cache,target=/x,required', "unexpected key 'required' for mount type 'cache'"],
    ['type=bind,target', "invalid field 'target' must be a key=value pair"],
    ['type=bind,tagret=/x', "unexpected key 'tagret' in 'tagret=/x' (did you mean target?)"],
    ['type=bind,target=/x,ro=maybe', 'invalid value for ro: maybe'],
    ['type=cache,target=/x,mode=9', 'invalid value 9 for mode'],
    ['type=cache,target=/x,uid=-1', 'invalid value -1 for uid'],
    ['type=tmpfs,target=/x,size=lots', 'invalid value for size: lots'],
    ['type=secret,from=a,id=x', 'secret mount should not have a from'],
    ['type=secret,id=x,sharing=shared', 'secret mount should not define sharing'],
    ['type=secret', 'invalid secret mount. one of source, target required'],
    ['type=secret,source=a,id=b', "both source and id can't be set"],
    ['type=bind,target=/x,sharing=shared', 'invalid cache sharing set for bind mount'],
  ];
  for (const [value, message] of cases) t.throws(() => parseRunMount(value, asIs), { message }, value);
});

test('csvFields reads quotes as Go\'s csv package does, and reports its errors', (t) => {
  t.deepEqual(csvFields('a,"b,c","d""e",'), ['a', 'b,c', 'd"e', '']);
  t.throws(() => csvFields('a"b'), { message: 'failed to parse csv mounts: parse error on line 1, column 2: bare " in non-quoted-field' });
  t.throws(() => csvFields('"ab'), { message: /extraneous or missing " in quoted-field/ });
  t.throws(() => csvFields(''), { message: 'failed to parse csv mounts: EOF' });
});

test('from= is read before expansion, and a variable there is refused', (t) => {
  t.is(mountFrom('type=bind,from=builder,target=/x'), 'builder');
  t.is(mountFrom('type=bind,target=/x'), undefined);
  t.throws(() => mountFrom('from=$STAGE'), { message: "'from' doesn't support variable expansion, define alias stage instead" });
});

test('RUN mounts in the graph: cache, bind from the context and a stage, tmpfs, secret, ssh', async (t) => {
  const text = [
    'FROM busybox AS deps',
    'RUN fetch',
    'FROM busybox',
    'WORKDIR /app',
    'RUN --mount=type=cache,target=.cache --mount=type=bind,source=src/,target=/src --mount=type=bind,from=deps,source=/out,target=out,rw' +
      ' --mount=type=tmpfs,target=/tmp,size=10m --mount=type=secret,id=npm,required --mount=type=ssh,id=gh,target=/ssh.sock --mount=type=ssh make',
    '',
  ].join('\n');
  const r = await build(text);
  const vertex = vertexNamed(r, 'make');
  t.deepEqual(vertex.inputs.map((v) => v.name), ['[stage-1 2/3] WORKDIR /app', '[internal] load build context', '[deps 2/2] RUN fetch']);
  const op = execOf(r, 'make');
  t.deepEqual(op.mounts, [
    { kind: 'cache', target: '/app/.cache', id: '.cache', sharing: 'shared', from: undefined, source: '.', mode: 0o755, uid: 0, gid: 0, readonly: false },
    { kind: 'bind', target: '/src', from: 1, source: 'src', readwrite: false },
    { kind: 'bind', target: '/app/out', from: 2, source: 'out', readwrite: true },
    { kind: 'tmpfs', target: '/tmp', size: 10 * 1024 * 1024 },
    { kind: 'secret', id: 'npm', target: '/run/secrets/npm', env: undefined, required: true, mode: 0o400, uid: 0, gid: 0 },
    { kind: 'ssh', id: 'gh', target: '/ssh.sock', required: false, mode: 0o600, uid: 0, gid: 0 },
    { kind: 'ssh', id: 'default', target: '/run/buildkit/ssh_agent.1', required: false, mode: 0o600, uid: 0, gid: 0 },
  ]);
  t.true(op.env.includes('SSH_AUTH_SOCK=/ssh.sock'));
});

test('a cache seeded from a stage makes that stage an input; a secret as env has no file', async (t) => {
  const r = await build('FROM busybox AS seed\nRUN s\nFROM busybox\nRUN --mount=type=cache,target=/c,from=seed,source=/c --mount=type=secret,id=tok,env=TOKEN use\n');
  const op = execOf(r, 'use');
  t.like(op.mounts[0], { kind: 'cache', from: 1, source: 'c', id: '/c' });
  t.deepEqual(op.mounts[1], { kind: 'secret', id: 'tok', target: undefined, env: 'TOKEN', required: false, mode: 0o400, uid: 0, gid: 0 });
  t.is(vertexNamed(r, 'use').inputs[1]?.name, '[seed 2/2] RUN s');
});

test('a mount from an image that is no stage resolves the image', async (t) => {
  const r = await build('FROM busybox\nRUN --mount=from=alpine:3.20,target=/a cat /a/etc/os-release\n');
  t.deepEqual(r.lookups, ['docker.io/library/busybox:latest', 'docker.io/library/alpine:3.20']);
  t.is(vertexNamed(r, 'cat').inputs[1]?.name, 'FROM docker.io/library/alpine:3.20');
});

test('mount errors in a Dockerfile name the mount and point at the RUN', async (t) => {
  const bad = await t.throwsAsync(build('FROM busybox\nRUN --mount=type=bind,target=/x,mode=1 x\n'), { instanceOf: DockerfileError });
  t.is(bad.message, 'RUN --mount=type=bind,target=/x,mode=1: mode not allowed for "bind" type mounts');
  t.is(bad.range?.start.line, 2);
  const root = await t.throwsAsync(build('FROM busybox\nRUN --mount=type=cache,target=/ x\n'), { instanceOf: DockerfileError });
  t.is(root.message, 'RUN --mount=type=cache,target=/: invalid mount target "/"');
  const later = await t.throwsAsync(build('FROM busybox AS a\nRUN --mount=from=b,target=/b x\nFROM busybox AS b\n', { target: 'a' }), { instanceOf: DockerfileError });
  t.is(later.message, 'cannot mount from stage "b" to "/b", stage needs to be defined before current command');
  const variable = await t.throwsAsync(build('FROM busybox\nRUN --mount=from=$X,target=/b x\n'), { instanceOf: DockerfileError });
  t.regex(variable.message, /'from' doesn't support variable expansion/);
});

test('mount values are expanded with the stage\'s variables', async (t) => {
  const r = await build('FROM busybox\nARG CACHE=/var/cache/apt\nRUN --mount=type=cache,target=$CACHE,sharing=locked apt-get update\n');
  t.like(execOf(r, 'apt-get').mounts[0], { target: '/var/cache/apt', id: '/var/cache/apt', sharing: 'locked' });
});

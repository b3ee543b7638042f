import test from 'ava';
import { DockerfileError } from '../../errors/index.ts';
import { build, execOf, newHistory, vertexNamed } from '../compile-fixture.ts';

test('the shell form runs through /bin/sh -c unexpanded; the exec form as written', async (t) => {
  const r = await build('FROM busybox\nRUN echo $HOME "a  b"\nRUN ["echo", "$HOME"]\n');
  t.deepEqual(execOf(r, '[2/3]').argv, ['/bin/sh', '-c', 'echo $HOME "a  b"']);
  t.deepEqual(execOf(r, '[3/3]').argv, ['echo', '$HOME']);
  t.deepEqual(newHistory(r).map((h) => h.created_by), ['RUN /bin/sh -c echo $HOME "a  b" # buildkit', 'RUN echo $HOME # buildkit']);
});

test('SHELL changes the shell of later shell-form RUNs', async (t) => {
  const r = await build('FROM busybox\nSHELL ["/bin/bash", "-eo", "pipefail", "-c"]\nRUN a | b\n');
  t.deepEqual(execOf(r, 'RUN').argv, ['/bin/bash', '-eo', 'pipefail', '-c', 'a | b']);
});

test('a SHELL from the base image is used for RUN', async (t) => {
  const r = await build('FROM base\nRUN x\n', { images: { 'docker.io/library/base:latest': { architecture: 'amd64', os: 'linux', config: { Shell: ['pwsh', '-c'] }, rootfs: { type: 'layers', diff_ids: [] }, history: [{ created_by: 'x' }] } } });
  t.deepEqual(execOf(r, 'RUN').argv, ['pwsh', '-c', 'x']);
});

test('a lone heredoc with a shebang becomes a script file the shell runs', async (t) => {
  const r = await build('FROM busybox\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n');
  const op = execOf(r, 'RUN');
  t.deepEqual(op.files, [{ path: '/dev/pipes/EOF', data: '#!/usr/bin/env python3\nprint(1)\n', mode: 0o755 }]);
  t.deepEqual(op.argv, ['/bin/sh', '-c', '/dev/pipes/EOF']);
  t.is(vertexNamed(r, 'RUN').name, '[2/2] RUN <<EOF (#!/usr/bin/env python3...)');
  t.is(newHistory(r)[0]?.created_by, 'RUN /bin/sh -c /dev/pipes/EOF # buildkit');
});

test('a lone heredoc without a shebang is the shell\'s command string; <<- strips tabs', async (t) => {
  const r = await build('FROM busybox\nRUN <<-EOT\n\techo one\n\techo two\n\tEOT\n');
  const op = execOf(r, 'RUN');
  t.deepEqual(op.argv, ['/bin/sh', '-c', 'echo one\necho two\n']);
  t.deepEqual(op.files, []);
  t.is(vertexNamed(r, 'RUN').name, '[2/2] RUN <<-EOT (echo one...)');
});

test('a heredoc inside a longer command is handed back to the shell with its body', async (t) => {
  const r = await build('FROM busybox\nRUN cat <<A > /a && cat <<B > /b\nalpha\nA\nbeta\nB\n');
  t.deepEqual(execOf(r, 'RUN').argv, ['/bin/sh', '-c', 'cat <<A > /a && cat <<B > /b\nalpha\nA\nbeta\nB']);
});

test('--network and --security are carried; defaults are default and sandbox', async (t) => {
  const r = await build('FROM busybox\nRUN a\nRUN --network=none b\nRUN --network=host --security=insecure c\n');
  t.like(execOf(r, 'RUN a'), { network: 'default', security: 'sandbox' });
  t.like(execOf(r, 'RUN --network=none b'), { network: 'none', security: 'sandbox' });
  t.like(execOf(r, 'RUN --network=host'), { network: 'host', security: 'insecure' });
});

test('bad --network and --security values are errors naming them', async (t) => {
  const net = await t.throwsAsync(build('FROM busybox\nRUN --network=bridge x\n'), { instanceOf: DockerfileError });
  t.is(net.message, 'RUN: invalid network mode "bridge"');
  t.is(net.range?.start.line, 2);
  const sec = await t.throwsAsync(build('FROM busybox\nRUN --security=privileged x\n'), { instanceOf: DockerfileError });
  t.is(sec.message, 'RUN: security "privileged" is not valid');
});

test('USER, WORKDIR and VOLUME so far become the exec\'s user, cwd and volumes', async (t) => {
  const r = await build('FROM busybox\nRUN a\nUSER 1000:1000\nWORKDIR /w\nVOLUME /data /cache\nRUN b\n');
  t.like(execOf(r, 'RUN a'), { user: '', cwd: '/', volumes: [] });
  t.like(execOf(r, 'RUN b'), { user: '1000:1000', cwd: '/w' });
  t.deepEqual(execOf(r, 'RUN b').volumes, ['/data', '/cache']);
});

test('a base image\'s User, WorkingDir and Volumes apply to RUN', async (t) => {
  const base = { architecture: 'amd64', os: 'linux', config: { User: 'node', WorkingDir: '/home/node', Volumes: { '/v': {} } }, rootfs: { type: 'layers' as const, diff_ids: [] }, history: [{ created_by: 'x' }] };
  const r = await build('FROM node\nRUN npm ci\n', { images: { 'docker.io/library/node:latest': base } });
  t.like(execOf(r, 'RUN'), { user: 'node', cwd: '/home/node', volumes: ['/v'] });
});

test('the step name shows the command with variables expanded and quotes kept; the keyword upper-cased', async (t) => {
  const r = await build('FROM busybox\nENV NAME=world\nrun echo "hello $NAME" $UNSET\n');
  t.is(vertexNamed(r, 'echo').name, '[2/2] RUN echo "hello world" $UNSET');
});

test('an empty exec form is an error; an empty shell form runs the empty command as BuildKit does', async (t) => {
  await t.throwsAsync(build('FROM busybox\nRUN []\n'), { instanceOf: DockerfileError, message: 'RUN requires at least one argument' });
  t.deepEqual(execOf(await build('FROM busybox\nRUN\n'), 'RUN').argv, ['/bin/sh', '-c', '']);
});

test('an unknown RUN flag is an error that suggests the right one', async (t) => {
  const e = await t.throwsAsync(build('FROM busybox\nRUN --mout=type=cache,target=/x make\n'), { instanceOf: DockerfileError });
  t.is(e.message, 'RUN: unknown flag: --mout');
  t.is(e.hint, 'did you mean mount?');
});

test('the same RUN on the same base is one vertex; a different build arg in scope changes it', async (t) => {
  const text = 'FROM busybox\nARG V\nRUN make\n';
  const a = await build(text, { buildArgs: { V: '1' } });
  const b = await build(text, { buildArgs: { V: '1' } });
  const c = await build(text, { buildArgs: { V: '2' } });
  t.is(a.root.digest, b.root.digest);
  t.not(a.root.digest, c.root.digest);
});

import test from 'ava';
import { DockerfileError, NotFoundError } from '../errors/index.ts';
import { BUSYBOX, build, execOf, fileOf, names, newHistory, vertexNamed, vertices } from './compile-fixture.ts';

test('a single-stage build numbers its steps without a stage name', async (t) => {
  const r = await build('FROM busybox\nRUN echo hi\nCOPY a /a\n');
  t.deepEqual(names(r), [
    '[1/3] FROM docker.io/library/busybox:latest',
    '[2/3] RUN echo hi',
    '[internal] load build context',
    '[3/3] COPY a /a',
  ]);
  t.is(r.stage, '0');
  t.deepEqual(r.lookups, ['docker.io/library/busybox:latest']);
});

test('the image vertex carries the ID and name the store resolved, and the FROM range', async (t) => {
  const r = await build('FROM busybox:latest AS base\n');
  const op = r.root.op;
  t.deepEqual(op, { kind: 'image', id: `sha256:${'b'.repeat(64)}`, ref: 'docker.io/library/busybox:latest' });
  t.deepEqual(r.root.range, { start: { line: 1, column: 1 }, end: { line: 1, column: 28 } });
  t.is(r.root.file, 'Dockerfile');
  t.is(r.stage, 'base');
});

test('multi-stage names show the stage name or stage-N, padded to the width of the total', async (t) => {
  const text = ['FROM busybox AS builder', ...Array.from({ length: 10 }, (_, i) => `RUN echo ${i}`), 'FROM scratch', 'COPY --from=builder /x /x', ''].join('\n');
  const r = await build(text);
  const all = names(r);
  t.true(all.includes('[builder  1/11] FROM docker.io/library/busybox:latest'));
  t.true(all.includes('[builder 11/11] RUN echo 9'));
  t.true(all.includes('[stage-1 1/1] COPY --from=builder /x /x'));
});

test('only the stages the target needs are compiled and resolved, each image once', async (t) => {
  const text = 'FROM alpine:3.20 AS unused\nRUN exit 1\nFROM busybox AS dep\nRUN make\nFROM busybox\nCOPY --from=dep /out /out\n';
  const r = await build(text);
  t.deepEqual(r.lookups, ['docker.io/library/busybox:latest']);
  t.false(names(r).some((n) => n.includes('exit 1')));
  t.true(names(r).includes('[dep 2/2] RUN make'));
});

test('--target picks a stage by name, case-insensitive, and later stages are left out', async (t) => {
  const r = await build('FROM busybox AS Build\nRUN make\nFROM busybox\nRUN exit 1\n', { target: 'BUILD' });
  t.is(r.stage, 'build');
  t.deepEqual(names(r), ['[build 1/2] FROM docker.io/library/busybox:latest', '[build 2/2] RUN make']);
});

test('an unknown --target is an error that suggests a close stage name', async (t) => {
  const e = await t.throwsAsync(build('FROM busybox AS builder\nFROM busybox\n', { target: 'buidler' }), { instanceOf: DockerfileError });
  t.is(e.message, 'target stage "buidler" could not be found');
  t.is(e.hint, 'did you mean builder?');
});

test('FROM an earlier stage continues its file system, environment, directory and config', async (t) => {
  const r = await build('FROM busybox AS base\nENV A=1\nWORKDIR /app\nUSER app\nFROM base\nRUN pwd\n');
  const run = execOf(r, 'RUN pwd');
  t.is(run.cwd, '/app');
  t.is(run.user, 'app');
  t.true(run.env.includes('A=1'));
  t.is(vertexNamed(r, 'RUN pwd').inputs[0]?.name, '[base 2/2] WORKDIR /app');
  t.is(r.config.config?.User, 'app');
  t.deepEqual(r.config.rootfs.diff_ids, BUSYBOX.rootfs.diff_ids);
  t.deepEqual(
    newHistory(r).map((h) => h.created_by),
    ['ENV A=1', 'WORKDIR /app', 'USER app', 'RUN /bin/sh -c pwd # buildkit'],
  );
});

test('a stage name is matched case-insensitively in FROM', async (t) => {
  const r = await build('FROM busybox AS base\nRUN a\nFROM BASE\nRUN b\n');
  t.is(vertexNamed(r, 'RUN b').inputs[0]?.name, '[base 2/2] RUN a');
});

test('FROM with global ARGs: the default, a build arg over it, and an automatic platform ARG', async (t) => {
  const text = 'ARG IMAGE=busybox\nARG TAG\nFROM ${IMAGE}:${TAG:-latest}\n';
  t.deepEqual((await build(text)).lookups, ['docker.io/library/busybox:latest']);
  t.deepEqual((await build(text, { buildArgs: { IMAGE: 'alpine', TAG: '3.20' } })).lookups, ['docker.io/library/alpine:3.20']);
  const platform = await build('FROM --platform=$BUILDPLATFORM busybox AS b\nARG TARGETARCH\nRUN echo $TARGETARCH\n');
  t.true(execOf(platform, 'RUN').env.includes('TARGETARCH=amd64'));
});

test('a FROM that expands to nothing is an error naming what was written', async (t) => {
  const e = await t.throwsAsync(build('ARG IMAGE\nFROM $IMAGE\n'), { instanceOf: DockerfileError });
  t.is(e.message, 'base name ($IMAGE) should not be blank');
  t.is(e.range?.start.line, 2);
});

test('FROM --platform for another platform is refused; a malformed one names the value', async (t) => {
  const other = await t.throwsAsync(build('FROM --platform=linux/arm64 busybox\n'), { instanceOf: DockerfileError });
  t.regex(other.message, /linux\/arm64.*kiln builds only for linux\/amd64/);
  const bad = await t.throwsAsync(build('FROM --platform=linux/nope busybox\n'), { instanceOf: DockerfileError });
  t.regex(bad.message, /^failed to parse platform linux\/nope: "linux\/nope": unknown operating system or architecture/);
});

test('an image the store lacks keeps its error class and gets the FROM line', async (t) => {
  const e = await t.throwsAsync(build('FROM busybox\nFROM nosuch:1\nRUN x\n'), { instanceOf: NotFoundError });
  t.is(e.message, 'nosuch:1: image docker.io/library/nosuch:1 not found');
  t.is(e.file, 'Dockerfile');
  t.is(e.range?.start.line, 2);
});

test('a malformed image name is an error even in a stage the target does not need', async (t) => {
  const e = await t.throwsAsync(build('FROM Busy_Box AS x\nFROM busybox\n'), { instanceOf: DockerfileError });
  t.regex(e.message, /^failed to parse stage name "Busy_Box": /);
});

test('COPY --from a later stage is an error; from itself, a circular dependency', async (t) => {
  const later = await t.throwsAsync(build('FROM busybox AS a\nCOPY --from=b /x /y\nFROM busybox AS b\n', { target: 'a' }), { instanceOf: DockerfileError });
  t.is(later.message, 'cannot copy from stage "b", it needs to be defined before current stage "a"');
  t.is(later.range?.start.line, 2);
  const self = await t.throwsAsync(build('FROM busybox AS a\nRUN --mount=from=a,target=/x true\n'), { instanceOf: DockerfileError });
  t.is(self.message, 'circular dependency detected on stage: a');
});

test('COPY --from names a stage by index, and an image that is no stage through the store', async (t) => {
  const r = await build('FROM busybox\nRUN make\nFROM scratch\nCOPY --from=0 /a /a\nCOPY --from=alpine:3.20 /etc/os-release /\n');
  const byIndex = vertexNamed(r, 'COPY --from=0');
  t.is(byIndex.inputs[1]?.name, '[stage-0 2/2] RUN make');
  const byImage = vertexNamed(r, 'COPY --from=alpine');
  t.deepEqual(byImage.inputs[1]?.op, { kind: 'image', id: `sha256:${'f'.repeat(64)}`, ref: 'docker.io/library/alpine:3.20' });
  t.is(byImage.inputs[1]?.name, 'FROM docker.io/library/alpine:3.20');
  const bad = await t.throwsAsync(build('FROM busybox\nFROM busybox\nCOPY --from=7 /a /a\n'), { instanceOf: DockerfileError });
  t.is(bad.message, 'invalid stage index 7');
});

test('COPY --from with a variable is refused before anything is built', async (t) => {
  const e = await t.throwsAsync(build('FROM busybox AS a\nFROM busybox\nARG S=a\nCOPY --from=$S /x /x\n'), { instanceOf: DockerfileError });
  t.regex(e.message, /^variable expansion is not supported for --from/);
});

test('one context vertex serves every step that reads the context', async (t) => {
  const r = await build('FROM busybox AS a\nCOPY x /x\nFROM busybox\nCOPY --from=a /x /x\nRUN --mount=target=/src make\nADD y /y\n');
  const contexts = vertices(r).filter((v) => v.op.kind === 'context');
  t.is(contexts.length, 1);
  t.deepEqual(contexts[0]?.op, { kind: 'context', name: 'context' });
  t.is(contexts[0]?.name, '[internal] load build context');
});

test('two stages with the same steps share their vertices', async (t) => {
  const r = await build('FROM busybox AS a\nRUN make\nFROM busybox AS b\nRUN make\nFROM scratch\nCOPY --from=a /x /a\nCOPY --from=b /x /b\n');
  const copies = vertices(r).filter((v) => v.name.includes('COPY --from'));
  t.is(copies[0]?.op.kind === 'file' && copies[0].op.actions[0]?.kind === 'copy' ? copies[0].op.actions[0].from : -1, 1);
  t.is(vertexNamed(r, 'COPY --from=a').inputs[1]?.digest, vertexNamed(r, 'COPY --from=b').inputs[1]?.digest);
});

test('FROM scratch starts from the empty file system with the default PATH and WorkingDir /', async (t) => {
  const r = await build('FROM scratch\nCOPY app /app\n');
  t.deepEqual(r.config.config?.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  t.is(r.config.config?.WorkingDir, '/');
  t.deepEqual(r.config.rootfs.diff_ids, []);
  t.is(vertexNamed(r, 'COPY').inputs[0]?.op.kind, 'scratch');
  t.deepEqual(names(r).filter((n) => n.startsWith('[')), ['[internal] scratch', '[internal] load build context', '[1/1] COPY app /app']);
});

test('a base image without PATH gets the default one, in its config and in RUN', async (t) => {
  const noPath = { ...BUSYBOX, config: { Env: ['HOME=/root'] } };
  const r = await build('FROM bare\nRUN env\n', { images: { 'docker.io/library/bare:latest': noPath } });
  t.deepEqual(r.config.config?.Env, ['HOME=/root', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  t.deepEqual(execOf(r, 'RUN env').env, ['HOME=/root', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
});

test('the final config: base config and history, changes, labels, platform, no created', async (t) => {
  const r = await build('FROM busybox\nLABEL b=2 a=1\nRUN true\n', {
    labels: new Map([['org.example', 'yes']]),
    platform: { os: 'linux', architecture: 'amd64' },
  });
  t.is(r.config.created, undefined);
  t.is(r.config.architecture, 'amd64');
  t.is(r.config.os, 'linux');
  t.deepEqual(Object.keys(r.config.config?.Labels ?? {}), ['a', 'b', 'org.example']);
  t.deepEqual(r.config.config?.Cmd, ['sh']);
  t.deepEqual(r.config.history?.slice(0, 2), BUSYBOX.history);
  t.deepEqual(newHistory(r), [
    { created_by: 'LABEL b=2 a=1', comment: 'buildkit.dockerfile.v0', empty_layer: true },
    { created_by: 'RUN /bin/sh -c true # buildkit', comment: 'buildkit.dockerfile.v0' },
  ]);
});

test('non-empty history entries pair with the exec and file vertices on the chain of input 0', async (t) => {
  const r = await build('FROM busybox\nENV A=1\nWORKDIR /w\nRUN a\nCOPY x .\nUSER u\nRUN b\n');
  const layered = (r.config.history ?? []).filter((h) => h.empty_layer !== true).length;
  let chain = 0;
  for (let v = r.root; v.op.kind === 'exec' || v.op.kind === 'file'; v = v.inputs[0] ?? v) chain++;
  t.is(layered, BUSYBOX.rootfs.diff_ids.length + chain);
  t.is(chain, 4);
});

test('build args no ARG declared are reported in one warning, predefined ones never', async (t) => {
  const r = await build('ARG USED\nFROM busybox\nARG ALSO\n', {
    buildArgs: { USED: '1', ALSO: '2', ZED: '3', ALPHA: '4', HTTP_PROXY: 'http://p', TARGETARCH: 'amd64' },
  });
  t.is(r.diagnostics.length, 1);
  t.is(r.diagnostics[0]?.severity, 'warning');
  t.is(r.diagnostics[0]?.code, 'unused-build-args');
  t.is(r.diagnostics[0]?.message, '[Warning] One or more build-args [ALPHA ZED] were not consumed');
  t.deepEqual((await build('FROM busybox\n')).diagnostics, []);
});

test('--no-cache-filter marks the named stage\'s RUN and COPY vertices, an empty list every stage', async (t) => {
  const text = 'FROM busybox AS a\nRUN a\nFROM busybox\nCOPY --from=a /a /a\nRUN b\n';
  const some = await build(text, { noCacheFilter: ['A'] });
  t.true(vertexNamed(some, 'RUN a').noCache);
  t.is(vertexNamed(some, 'RUN b').noCache, undefined);
  t.is(vertexNamed(some, 'RUN a').digest, vertexNamed(await build(text), 'RUN a').digest);
  const all = await build(text, { noCacheFilter: [] });
  t.true(vertexNamed(all, 'RUN b').noCache);
  t.true(vertexNamed(all, 'COPY').noCache);
  t.is(vertexNamed(all, 'FROM').noCache, undefined);
});

test('a # syntax= directive for another frontend is refused at its line', async (t) => {
  const e = await t.throwsAsync(build('# syntax=example.com/other:1\nFROM busybox\n'), { instanceOf: DockerfileError });
  t.regex(e.message, /cannot build with the frontend example.com\/other:1/);
  t.is(e.range?.start.line, 1);
  t.deepEqual((await build('# syntax=docker/dockerfile:1.7\nFROM busybox\n')).diagnostics, []);
});

test('an aborted signal stops the compile', async (t) => {
  const controller = new AbortController();
  controller.abort();
  const e = await t.throwsAsync(build('FROM busybox\n', { signal: controller.signal }), { any: true });
  t.is((e as { name?: string } | undefined)?.name, 'AbortError');
});

test('instructions before the first FROM other than ARG, and a Dockerfile without FROM, are errors', async (t) => {
  const before = await t.throwsAsync(build('ARG A\nENV B=1\nFROM busybox\n'), { instanceOf: DockerfileError });
  t.is(before.message, 'ENV: no build stage in current context');
  t.is(before.range?.start.line, 2);
  const none = await t.throwsAsync(build('ARG A\n'), { instanceOf: DockerfileError });
  t.is(none.message, 'dockerfile contains no stages to build');
});

test('an image with no layers is built on the empty file system but keeps its config', async (t) => {
  const empty = { ...BUSYBOX, rootfs: { type: 'layers' as const, diff_ids: [] }, history: [{ created_by: 'CMD ["x"]', empty_layer: true }] };
  const r = await build('FROM empty\nRUN true\n', { images: { 'docker.io/library/empty:latest': empty } });
  t.is(vertexNamed(r, 'RUN true').inputs[0]?.op.kind, 'scratch');
  t.deepEqual(r.config.config?.Cmd, ['sh']);
  t.is(fileOfOrUndefined(r), undefined);
});

function fileOfOrUndefined(r: Awaited<ReturnType<typeof build>>): unknown {
  try {
    return fileOf(r, 'COPY');
  } catch {
    return undefined;
  }
}

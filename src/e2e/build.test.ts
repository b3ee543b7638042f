import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfsTar } from './busybox.ts';
import { CLI, kiln, kilnAsync, type Run } from './kiln.ts';
import { createServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';

/*
 * `kiln build` end to end through the built CLI, on a fresh root per test with the busybox
 * base imported: real sandbox, real overlay snapshots, outputs checked from the outside
 * (the local output's files, the stored config, skopeo and umoci on OCI tars).
 */
const work = await mkdtemp(join(tmpdir(), 'kiln-e2e-build-'));
const rootfs = await busyboxRootfsTar(work);
let n = 0;

test.after.always(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A fresh root holding `busybox:latest`, and a context directory with `files`. */
async function setup(files: Record<string, string>): Promise<{ root: string; context: string }> {
  const dir = await mkdtemp(join(work, `t${n++}-`));
  const root = join(dir, 'root');
  const context = join(dir, 'context');
  await mkdir(context);
  const imported = kiln(root, ['import', rootfs, 'busybox:latest'], { env: { SOURCE_DATE_EPOCH: '0' } });
  if (imported.code !== 0) throw new Error(imported.stderr);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(context, name, '..'), { recursive: true });
    await writeFile(join(context, name), content);
  }
  return { root, context };
}

function build(root: string, context: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Run {
  return kiln(root, ['build', '--progress', 'rawjson', ...args, context], { env });
}

function ok(t: { is: (a: unknown, b: unknown, m?: string) => void }, r: Run): void {
  t.is(r.code, 0, `${r.stderr}\n${r.stdout}`);
}

interface Event {
  readonly kind: string;
  readonly id: string;
  readonly name?: string;
  readonly cacheMiss?: string;
  readonly data?: string;
}

/** The rawjson events of a run (on standard error). */
function events(r: Run): Event[] {
  return r.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Event);
}

/** Names of the steps a build ran (not cached), and of those it took from the cache. */
function steps(r: Run): { ran: string[]; cached: string[] } {
  const all = events(r);
  const name = (id: string) => all.find((e) => e.kind === 'vertex' && e.id === id)?.name ?? id;
  const ranIds = new Set(all.filter((e) => e.kind === 'started').map((e) => e.id));
  const cachedIds = new Set(all.filter((e) => e.kind === 'cached').map((e) => e.id));
  const filter = (s: string) => /\b(RUN|COPY|ADD|WORKDIR)\b/.test(s);
  return { ran: [...ranIds].map(name).filter(filter), cached: [...cachedIds].map(name).filter(filter) };
}

function inspect(root: string, ref: string): { Config: Record<string, unknown>; RootFS: { Layers: string[] }; Id: string } {
  const r = kiln(root, ['inspect', ref]);
  if (r.code !== 0) throw new Error(r.stderr);
  const parsed = JSON.parse(r.stdout) as unknown;
  return (Array.isArray(parsed) ? parsed[0] : parsed) as never;
}

test('a small app builds: files from COPY and RUN are in the image, the config carries ENV, WORKDIR, USER, CMD, LABEL', async (t) => {
  const { root, context } = await setup({
    'Dockerfile': [
      'FROM busybox',
      'WORKDIR /app',
      'COPY src/ ./src/',
      'ENV GREETING=hello',
      'RUN echo "$GREETING from $(pwd)" > /app/out.txt && wc -c < src/main.txt > /app/size',
      'LABEL org.example.name=app',
      'USER 1000:1000',
      'CMD ["sh", "-c", "cat /app/out.txt"]',
      '',
    ].join('\n'),
    'src/main.txt': 'twelve bytes',
  });
  const out = join(context, '..', 'out');
  const r = build(root, context, ['-t', 'app:1', '--output', `type=local,dest=${out}`]);
  ok(t, r);
  t.is(await readFile(join(out, 'app', 'out.txt'), 'utf8'), 'hello from /app\n');
  t.is((await readFile(join(out, 'app', 'size'), 'utf8')).trim(), '12');
  t.is(await readFile(join(out, 'app', 'src', 'main.txt'), 'utf8'), 'twelve bytes');
  const config = inspect(root, 'app:1').Config;
  t.deepEqual(config['Cmd'], ['sh', '-c', 'cat /app/out.txt']);
  t.is(config['WorkingDir'], '/app');
  t.is(config['User'], '1000:1000');
  t.deepEqual(config['Labels'], { 'org.example.name': 'app' });
  t.true((config['Env'] as string[]).includes('GREETING=hello'));
  t.true((config['Env'] as string[]).some((e) => e.startsWith('PATH=')));
  // Mount points the sandbox made (/proc, /dev, /sys, /etc/hosts…) are not in the layer.
  t.false(existsSync(join(out, 'proc')) && (await readdir(join(out, 'proc'))).length > 0);
});

test('a rebuild takes every step from the cache, and an edited file reruns only the steps after its COPY', async (t) => {
  const { root, context } = await setup({
    'Dockerfile': ['FROM busybox', 'RUN echo one > /one', 'COPY a.txt /a.txt', 'RUN cat /a.txt > /copy', ''].join('\n'),
    'a.txt': 'first',
  });
  const first = build(root, context, ['-t', 'c:1']);
  ok(t, first);
  t.deepEqual(steps(first).cached, []);
  t.is(steps(first).ran.length, 3);

  const second = build(root, context, ['-t', 'c:2']);
  ok(t, second);
  t.deepEqual(steps(second).ran, []);
  t.is(steps(second).cached.length, 3);
  t.is(inspect(root, 'c:1').Id, inspect(root, 'c:2').Id);

  await writeFile(join(context, 'a.txt'), 'second');
  const third = build(root, context, ['-t', 'c:3']);
  ok(t, third);
  const s = steps(third);
  t.true(s.cached.some((x) => x.includes('RUN echo one')), JSON.stringify(s));
  t.true(s.ran.some((x) => x.includes('COPY a.txt')), JSON.stringify(s));
  t.true(s.ran.some((x) => x.includes('RUN cat')), JSON.stringify(s));
  const miss = events(third).find((e) => e.kind === 'started' && e.cacheMiss !== undefined);
  t.is(miss?.cacheMiss, 'file a.txt changed', 'the miss names the file');
  const after = events(third).filter((e) => e.kind === 'started').map((e) => e.cacheMiss);
  t.true(after.includes('parent changed'), JSON.stringify(after));
});

test('--no-cache runs every step again', async (t) => {
  const { root, context } = await setup({ 'Dockerfile': 'FROM busybox\nRUN echo x > /x\n' });
  ok(t, build(root, context));
  const again = build(root, context, ['--no-cache']);
  ok(t, again);
  t.is(steps(again).ran.length, 1);
});

test('multi-stage: --target builds only the stages it needs, COPY --from takes files from another stage', async (t) => {
  const { root, context } = await setup({
    'Dockerfile': [
      'FROM busybox AS builder',
      'RUN echo built > /artifact',
      'FROM busybox AS unused',
      'RUN echo never > /never',
      'FROM busybox AS final',
      'COPY --from=builder /artifact /artifact',
      'FROM final AS other',
      'RUN echo other > /other',
      '',
    ].join('\n'),
  });
  const out = join(context, '..', 'out');
  const r = build(root, context, ['--target', 'final', '--output', `type=local,dest=${out}`]);
  ok(t, r);
  t.is(await readFile(join(out, 'artifact'), 'utf8'), 'built\n');
  t.false(existsSync(join(out, 'other')));
  const names = events(r).filter((e) => e.kind === 'vertex').map((e) => e.name ?? '');
  t.false(names.some((x) => x.includes('never')), names.join('\n'));
  t.false(names.some((x) => x.includes('RUN echo other')), names.join('\n'));
});

test('a file deleted by RUN is gone from the image (a whiteout), and a later stage sees the deletion', async (t) => {
  const { root, context } = await setup({
    'Dockerfile': ['FROM busybox', 'RUN mkdir -p /d && echo x > /d/f && echo y > /keep', 'RUN rm -r /d', ''].join('\n'),
  });
  const out = join(context, '..', 'out');
  ok(t, build(root, context, ['--output', `type=local,dest=${out}`]));
  t.false(existsSync(join(out, 'd')));
  t.is(await readFile(join(out, 'keep'), 'utf8'), 'y\n');
});

test('a failing RUN fails the build with its exit code, the Dockerfile line, and tags nothing; the next build reuses the steps before it', async (t) => {
  const { root, context } = await setup({
    'Dockerfile': ['FROM busybox', 'RUN echo before > /before', 'RUN echo boom >&2 && exit 3', ''].join('\n'),
  });
  const r = kiln(root, ['build', '--progress', 'plain', '-t', 'bad:1', context]);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /did not complete successfully: exit code: 3/);
  t.regex(r.stderr, /Dockerfile:3/);
  t.regex(r.stderr, />>> RUN echo boom/);
  t.regex(r.stderr, /boom/);
  t.is(kiln(root, ['inspect', 'bad:1']).code, 1);
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  t.false(mounts.includes(root), 'no mount is left under the root');
  await writeFile(join(context, 'Dockerfile'), ['FROM busybox', 'RUN echo before > /before', 'RUN true', ''].join('\n'));
  const next = build(root, context, ['-t', 'good:1']);
  ok(t, next);
  t.true(steps(next).cached.some((x) => x.includes('RUN echo before')));
});

test('a missing COPY source fails naming the path, as the step’s error with its Dockerfile line', async (t) => {
  const { root, context } = await setup({ 'Dockerfile': 'FROM busybox\nRUN echo a\nCOPY nothere.txt /x\nRUN echo b\n' });
  const r = kiln(root, ['build', '--progress', 'plain', context]);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /nothere\.txt/);
  t.regex(r.stderr, /Dockerfile:3/);
  t.regex(r.stderr, />>> COPY nothere\.txt \/x/);
  const raw = build(root, context);
  t.true(events(raw).some((e) => e.kind === 'error' && (events(raw).find((v) => v.kind === 'vertex' && v.id === e.id)?.name ?? '').includes('COPY nothere.txt')));
});

test('a file excluded by .dockerignore is not in the context', async (t) => {
  const { root, context } = await setup({
    'Dockerfile': 'FROM busybox\nCOPY . /ctx/\n',
    '.dockerignore': 'secret.txt\n',
    'secret.txt': 'no',
    'kept.txt': 'yes',
  });
  const out = join(context, '..', 'out');
  ok(t, build(root, context, ['--output', `type=local,dest=${out}`]));
  t.true(existsSync(join(out, 'ctx', 'kept.txt')));
  t.false(existsSync(join(out, 'ctx', 'secret.txt')));
});

test('an unknown stage in COPY --from is an error naming the line', async (t) => {
  const { root, context } = await setup({ 'Dockerfile': 'FROM busybox\nCOPY --from=nosuchstage /x /x\n' });
  const r = kiln(root, ['build', '--progress', 'plain', context]);
  t.not(r.code, 0);
  t.regex(r.stderr, /nosuchstage/);
});

test('four independent sleep stages run in parallel', async (t) => {
  const stages = [0, 1, 2, 3].map((i) => `FROM busybox AS s${i}\nRUN sleep 1 && echo ${i} > /out\n`).join('');
  const final = 'FROM busybox\n' + [0, 1, 2, 3].map((i) => `COPY --from=s${i} /out /out${i}\n`).join('');
  const { root, context } = await setup({ 'Dockerfile': stages + final });
  const started = Date.now();
  ok(t, build(root, context));
  const elapsed = Date.now() - started;
  t.true(elapsed < 3500, `took ${elapsed} ms`);
});

test('two builds from clean roots with SOURCE_DATE_EPOCH and rewrite-timestamp give the same image, and the OCI output passes skopeo and umoci', async (t) => {
  const files = { 'Dockerfile': 'FROM busybox\nCOPY a /a\nRUN echo hi > /hi\n', 'a': 'a' };
  const one = await setup(files);
  const two = await setup(files);
  const env = { SOURCE_DATE_EPOCH: '1700000000' };
  const tarPath = join(one.context, '..', 'image.tar');
  const r1 = build(one.root, one.context, ['-t', 'repro:1', '--output', `type=oci,dest=${tarPath},rewrite-timestamp=true`], env);
  ok(t, r1);
  const r2 = build(two.root, two.context, ['-t', 'repro:1', '--output', 'type=image,rewrite-timestamp=true'], env);
  ok(t, r2);
  t.is(inspect(one.root, 'repro:1').Id, inspect(two.root, 'repro:1').Id);
  t.true((await stat(tarPath)).size > 0);
  const skopeo = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${tarPath}`], { encoding: 'utf8' })) as { Layers: string[] };
  t.is(skopeo.Layers.length, 3);
  const bundle = join(one.context, '..', 'bundle');
  execFileSync('skopeo', ['copy', `oci-archive:${tarPath}`, `oci:${join(one.context, '..', 'layout')}:repro`]);
  execFileSync('umoci', ['unpack', '--image', `${join(one.context, '..', 'layout')}:repro`, bundle]);
  t.is(await readFile(join(bundle, 'rootfs', 'hi'), 'utf8'), 'hi\n');
});

test('RUN mounts: a cache persists across builds and stays out of the image; tmpfs, a context bind and secrets are seen only during the step', async (t) => {
  const { root, context } = await setup({
    'Dockerfile': [
      'FROM busybox',
      'RUN --mount=type=cache,target=/cache sh -c "echo run >> /cache/log; wc -l < /cache/log > /runs"',
      'RUN --mount=type=tmpfs,target=/t sh -c "grep \' /t \' /proc/mounts | cut -d\' \' -f3 > /tmpfs-type; touch /t/x"',
      'RUN --mount=type=bind,source=data,target=/data cat /data/in.txt > /from-bind',
      'RUN --mount=type=secret,id=token,required=true --mount=type=secret,id=envtoken,env=TOKEN sh -c "cat /run/secrets/token > /dev/null && echo \\"len=${#TOKEN}\\" > /secret-seen"',
      '',
    ].join('\n'),
    'data/in.txt': 'bound',
    'token.txt': 'file-secret-value',
  });
  const out = join(context, '..', 'out');
  const args = ['--secret', `id=token,src=${join(context, 'token.txt')}`, '--secret', 'id=envtoken,env=KILN_TEST_TOKEN', '--output', `type=local,dest=${out}`];
  ok(t, build(root, context, args, { KILN_TEST_TOKEN: 'abcd' }));
  t.is((await readFile(join(out, 'runs'), 'utf8')).trim(), '1');
  t.false(existsSync(join(out, 'cache', 'log')), 'the cache mount is not in the image');
  t.is(await readFile(join(out, 'tmpfs-type'), 'utf8'), 'tmpfs\n');
  t.false(existsSync(join(out, 't', 'x')));
  t.is(await readFile(join(out, 'from-bind'), 'utf8'), 'bound');
  t.false(existsSync(join(out, 'data')), 'the bind target made for the mount is not in the image');
  t.is(await readFile(join(out, 'secret-seen'), 'utf8'), 'len=4\n');
  t.false(existsSync(join(out, 'run', 'secrets')), 'no secret file in the image');
  const history = kiln(root, ['history', '--no-trunc', (await readdir(join(root, 'images', 'records')))[0]!.replace(/\.json$/, '')]);
  t.false(history.stdout.includes('abcd'));
  t.false(history.stdout.includes('file-secret-value'));
  // The cache mount keeps its content for the next build (with the step rerun).
  const again = join(context, '..', 'again');
  ok(t, build(root, context, ['--no-cache', ...args.slice(0, 4), '--output', `type=local,dest=${again}`], { KILN_TEST_TOKEN: 'abcd' }));
  t.is((await readFile(join(again, 'runs'), 'utf8')).trim(), '2');
  // kiln prune --cache empties it.
  const pruned = kiln(root, ['prune', '--cache']);
  ok(t, pruned);
  t.regex(pruned.stdout, /1 cache mount/);
  const third = join(context, '..', 'third');
  ok(t, build(root, context, ['--no-cache', ...args.slice(0, 4), '--output', `type=local,dest=${third}`], { KILN_TEST_TOKEN: 'abcd' }));
  t.is((await readFile(join(third, 'runs'), 'utf8')).trim(), '1');
});

test('a required secret that was not given fails the step naming it', async (t) => {
  const { root, context } = await setup({ 'Dockerfile': 'FROM busybox\nRUN --mount=type=secret,id=missing,required=true true\n' });
  const r = kiln(root, ['build', '--progress', 'plain', context]);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /secret missing: not found/);
});

test('RUN heredocs, USER by name with its HOME and groups, WORKDIR owned by the user, build args', async (t) => {
  const { root, context } = await setup({
    'Dockerfile': [
      'FROM busybox',
      'ARG VERSION=1',
      'RUN echo "app:x:1000:1000:app:/home/app:/bin/sh" >> /etc/passwd && echo "app:x:1000:" >> /etc/group && echo "extra:x:2000:app" >> /etc/group',
      'USER app',
      'WORKDIR /work',
      'RUN <<EOF',
      'echo "v=$VERSION home=$HOME id=$(id -u):$(id -g) groups=$(id -G)" > /work/info',
      'EOF',
      'RUN <<EOF',
      '#!/bin/sh',
      'echo "script $0" > /work/script',
      'EOF',
      '',
    ].join('\n'),
  });
  const out = join(context, '..', 'out');
  ok(t, build(root, context, ['--build-arg', 'VERSION=7', '--output', `type=local,dest=${out}`]));
  t.is(await readFile(join(out, 'work', 'info'), 'utf8'), 'v=7 home=/home/app id=1000:1000 groups=1000 2000\n');
  t.regex(await readFile(join(out, 'work', 'script'), 'utf8'), /^script /);
  const info = await stat(join(out, 'work'));
  t.is(`${info.uid}:${info.gid}`, '1000:1000');
});

test('COPY --chown and --chmod, ADD of a local tar extracts it', async (t) => {
  const { root, context } = await setup({ 'Dockerfile': 'FROM busybox\nCOPY --chown=1000:1000 --chmod=0640 a.txt /a.txt\nADD archive.tar /unpacked/\n', 'a.txt': 'a' });
  await mkdir(join(context, 'tree', 'sub'), { recursive: true });
  await writeFile(join(context, 'tree', 'sub', 'f'), 'in tar');
  execFileSync('tar', ['-C', join(context, 'tree'), '-cf', join(context, 'archive.tar'), 'sub']);
  const out = join(context, '..', 'out');
  ok(t, build(root, context, ['--output', `type=local,dest=${out}`]));
  const a = await stat(join(out, 'a.txt'));
  t.is(`${a.uid}:${a.gid} ${(a.mode & 0o777).toString(8)}`, '1000:1000 640');
  t.is(await readFile(join(out, 'unpacked', 'sub', 'f'), 'utf8'), 'in tar');
});

test('RUN --network=host needs --allow network.host, also when the step is in the cache', async (t) => {
  const { root, context } = await setup({ 'Dockerfile': 'FROM busybox\nRUN --network=host ls /sys/class/net > /ifaces\n' });
  const refused = kiln(root, ['build', '--progress', 'plain', context]);
  t.not(refused.code, 0);
  t.regex(refused.stderr, /network\.host/);
  ok(t, build(root, context, ['--allow', 'network.host']));
  const cached = kiln(root, ['build', '--progress', 'plain', context]);
  t.is(cached.code, 2, cached.stderr);
  t.regex(cached.stderr, /network\.host/);
});

test('COPY --from a stage that ran again but made the same files is a cache hit, and so are the steps after it', async (t) => {
  const { root, context } = await setup({
    'Dockerfile': [
      'FROM busybox AS first',
      'ARG V=1',
      'RUN echo stable > /stable && echo "$V" > /v',
      'FROM busybox',
      'COPY --from=first /stable /stable',
      'RUN cat /stable > /after',
      '',
    ].join('\n'),
  });
  ok(t, build(root, context));
  const second = build(root, context, ['--build-arg', 'V=2']);
  ok(t, second);
  const s = steps(second);
  t.true(s.ran.some((x) => x.includes('RUN echo stable')), JSON.stringify(s));
  t.true(s.cached.some((x) => x.includes('COPY --from=first')), JSON.stringify(s));
  t.true(s.cached.some((x) => x.includes('RUN cat')), JSON.stringify(s));
  // The next rebuild finds the copy by the stage's key alone.
  const third = build(root, context, ['--build-arg', 'V=2']);
  t.deepEqual(steps(third).ran, []);
});

test('kiln prune --keep-storage 0 drops the build cache, so the next build runs its steps again', async (t) => {
  const { root, context } = await setup({ 'Dockerfile': 'FROM busybox\nRUN echo x > /x\n' });
  ok(t, build(root, context));
  const pruned = kiln(root, ['prune', '--keep-storage', '0']);
  ok(t, pruned);
  t.regex(pruned.stdout, /1 build cache record/);
  const again = build(root, context, ['-t', 'keep:2']);
  ok(t, again);
  t.is(steps(again).ran.length, 1);
  t.is(kiln(root, ['fsck']).code, 0);
});

test('the automatic cache policy trims the build cache after a build when it is over KILN_CACHE_KEEP_STORAGE', async (t) => {
  const { root, context } = await setup({
    'Dockerfile': 'FROM busybox AS scratchwork\nRUN head -c 100000 /dev/urandom > /big\nFROM busybox\nCOPY --from=scratchwork /big /big\n',
  });
  const every = { KILN_CACHE_POLICY_INTERVAL: '0' };
  ok(t, build(root, context, ['-t', 'policy:1'], { ...every, KILN_CACHE_KEEP_STORAGE: '1k' }));
  const again = build(root, context, ['-t', 'policy:1'], { ...every, KILN_CACHE_KEEP_STORAGE: '1k' });
  ok(t, again);
  t.true(steps(again).ran.some((s) => s.includes('RUN head')), JSON.stringify(steps(again)));
  const kept = build(root, context, ['-t', 'policy:1'], { ...every, KILN_CACHE_KEEP_STORAGE: '1g' });
  ok(t, kept);
  const third = build(root, context, ['-t', 'policy:1'], { ...every, KILN_CACHE_KEEP_STORAGE: '1g' });
  t.deepEqual(steps(third).ran, []);
});

test('ADD of an http URL downloads the file (mode 0600), checked against --checksum', async (t) => {
  const body = 'served over http\n';
  const server = createServer((request, response) => {
    if (request.url === '/files/hello.txt') {
      response.writeHead(200, { 'Last-Modified': new Date(Date.UTC(2020, 0, 1)).toUTCString() });
      response.end(body);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const sum = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  const { root, context } = await setup({
    'Dockerfile': `FROM busybox\nADD --checksum=${sum} http://127.0.0.1:${port}/files/hello.txt /downloads/\nADD http://127.0.0.1:${port}/files/hello.txt /plain.txt\n`,
  });
  const out = join(context, '..', 'out');
  const r = await kilnAsync(root, ['build', '--progress', 'plain', '--output', `type=local,dest=${out}`, context]);
  t.is(r.code, 0, r.stderr);
  t.is(await readFile(join(out, 'downloads', 'hello.txt'), 'utf8'), body);
  const info = await stat(join(out, 'plain.txt'));
  t.is((info.mode & 0o777).toString(8), '600');
  t.is(info.mtimeMs, Date.UTC(2020, 0, 1));

  await writeFile(join(context, 'Dockerfile'), `FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} http://127.0.0.1:${port}/files/hello.txt /x\n`);
  const bad = await kilnAsync(root, ['build', '--progress', 'plain', context]);
  t.is(bad.code, 1, bad.stderr);
  t.regex(bad.stderr, /digest mismatch/);
});

test('every build keeps its whole log: kiln build-log shows the latest or one by ID, a failed one too', async (t) => {
  const { root, context } = await setup({ 'Dockerfile': 'FROM busybox\nRUN echo first-build-output\n' });
  ok(t, build(root, context));
  const first = kiln(root, ['build-log']);
  ok(t, first);
  t.regex(first.stdout, /first-build-output/);
  t.regex(first.stdout, /built sha256:/);
  const id = /^build (\S+)/.exec(first.stdout)?.[1] ?? '';
  await writeFile(join(context, 'Dockerfile'), 'FROM busybox\nRUN echo second && exit 5\n');
  t.is(build(root, context).code, 1);
  const latest = kiln(root, ['build-log']);
  t.regex(latest.stdout, /failed: .*exit code: 5/);
  const byId = kiln(root, ['build-log', id.slice(0, 12)]);
  t.regex(byId.stdout, /first-build-output/);
  const json = kiln(root, ['build-log', '--json', id]);
  t.true(json.stdout.split('\n').filter((l) => l !== '').every((l) => typeof JSON.parse(l).kind === 'string'));
  t.is(kiln(root, ['build-log', 'nosuchbuild']).code, 1);
});

test('metadata instructions set the config as BuildKit does: EXPOSE, VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL, ENTRYPOINT, MAINTAINER, ONBUILD', async (t) => {
  const { root, context } = await setup({
    'Dockerfile': [
      'FROM busybox AS base',
      'MAINTAINER someone@example.com',
      'EXPOSE 80 53/udp 8000-8001',
      'VOLUME ["/data"]',
      'STOPSIGNAL SIGTERM',
      'HEALTHCHECK --interval=5s --timeout=2s --retries=4 CMD wget -q localhost || exit 1',
      'SHELL ["/bin/sh", "-ec"]',
      'ENTRYPOINT ["/bin/sh"]',
      'ONBUILD RUN echo triggered > /triggered',
      'FROM base',
      '',
    ].join('\n'),
  });
  const out = join(context, '..', 'out');
  ok(t, build(root, context, ['-t', 'meta:1', '--output', `type=local,dest=${out}`]));
  t.is(await readFile(join(out, 'triggered'), 'utf8'), 'triggered\n', 'the ONBUILD trigger ran in the stage built FROM base');
  const image = inspect(root, 'meta:1') as unknown as { Author: string; Config: Record<string, unknown> };
  const config = image.Config;
  t.deepEqual(Object.keys(config['ExposedPorts'] as object).sort(), ['53/udp', '80/tcp', '8000/tcp', '8001/tcp']);
  t.deepEqual(config['Volumes'], { '/data': {} });
  t.is(config['StopSignal'], 'SIGTERM');
  t.deepEqual(config['Healthcheck'], { Test: ['CMD-SHELL', 'wget -q localhost || exit 1'], Interval: 5e9, Timeout: 2e9, Retries: 4 });
  t.deepEqual(config['Shell'], ['/bin/sh', '-ec']);
  t.deepEqual(config['Entrypoint'], ['/bin/sh']);
  t.is(image.Author, 'someone@example.com');
});

test('the Dockerfile can come from standard input (-f -), and the whole context as a tar on standard input', async (t) => {
  const { root, context } = await setup({ 'in.txt': 'from the context' });
  const fromStdin = kiln(root, ['build', '--progress', 'quiet', '-f', '-', context], { input: 'FROM busybox\nCOPY in.txt /in.txt\n' });
  ok(t, fromStdin);
  t.regex(fromStdin.stdout, /^sha256:[0-9a-f]{64}\n$/);
  await writeFile(join(context, 'Dockerfile'), 'FROM busybox\nCOPY in.txt /copied.txt\n');
  const tarred = execFileSync('tar', ['-C', context, '-cf', '-', '.']);
  const out = join(context, '..', 'out');
  const fromTar = kiln(root, ['build', '--progress', 'plain', '--output', `type=local,dest=${out}`, '-'], { input: tarred });
  ok(t, fromTar);
  t.is(await readFile(join(out, 'copied.txt'), 'utf8'), 'from the context');
  // A compressed context tar, and the file system as a tar on standard output (local, dest=-).
  const gzipped = execFileSync('gzip', ['-c'], { input: tarred });
  const streamed = spawnSync(process.execPath, [CLI, '--root', root, 'build', '--progress', 'quiet', '-o', 'type=local,dest=-', '-o', 'type=image,name=named:1,named:2', '-'], {
    input: gzipped,
    maxBuffer: 1 << 28,
  });
  t.is(streamed.status, 0, streamed.stderr.toString());
  t.is(execFileSync('tar', ['-xOf', '-', 'copied.txt'], { input: streamed.stdout, encoding: 'utf8' }), 'from the context');
  t.is(inspect(root, 'named:1').Id, inspect(root, 'named:2').Id);
});

test('--iidfile and --metadata-file describe the image built; another --platform is refused', async (t) => {
  const { root, context } = await setup({ 'Dockerfile': 'FROM busybox\nRUN true\n' });
  const iid = join(context, '..', 'iid');
  const meta = join(context, '..', 'meta.json');
  ok(t, build(root, context, ['-t', 'files:1', '--iidfile', iid, '--metadata-file', meta]));
  const id = await readFile(iid, 'utf8');
  t.is(id, inspect(root, 'files:1').Id);
  const metadata = JSON.parse(await readFile(meta, 'utf8')) as Record<string, unknown>;
  t.is(metadata['containerimage.config.digest'], id);
  t.regex(String(metadata['containerimage.digest']), /^sha256:/);
  t.is((metadata['containerimage.descriptor'] as { digest: string }).digest, metadata['containerimage.digest'] as string);
  const other = kiln(root, ['build', '--platform', 'linux/s390x', context]);
  t.is(other.code, 2, other.stderr);
  t.regex(other.stderr, /native platform/);
});

test('a cycle between stages is an error naming the line', async (t) => {
  const { root, context } = await setup({ 'Dockerfile': 'FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /y /y\n' });
  const r = kiln(root, ['build', '--progress', 'plain', context]);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /Dockerfile:\d/);
});

test('two builds on one root at once both succeed, and an interrupted build leaves no process or mount and the next build works', async (t) => {
  const { root, context } = await setup({ 'Dockerfile': 'FROM busybox\nRUN echo one > /one\nRUN sleep 0.5\n' });
  const [a, b] = await Promise.all([
    kilnAsync(root, ['build', '--progress', 'plain', '-t', 'both:a', context]),
    kilnAsync(root, ['build', '--progress', 'plain', '-t', 'both:b', context]),
  ]);
  t.is(a.code, 0, a.stderr);
  t.is(b.code, 0, b.stderr);
  t.is(kiln(root, ['fsck']).code, 0);

  await writeFile(join(context, 'Dockerfile'), 'FROM busybox\nRUN echo kiln-interrupt-token && sleep 300\n');
  const { startKiln } = await import('./kiln.ts');
  const started = startKiln(root, ['build', '--progress', 'plain', '-t', 'int:1', context]);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && (await sandboxesWith('sleep 300')).length === 0) await new Promise((r) => setTimeout(r, 100));
  process.kill(started.pid, 'SIGINT');
  const ended = await started.result;
  t.is(ended.code, 130, ended.stderr);
  t.deepEqual(await sandboxesWith('sleep 300'), []);
  t.false((await readFile('/proc/self/mountinfo', 'utf8')).includes(root));
  t.is(kiln(root, ['inspect', 'int:1']).code, 1);
  await writeFile(join(context, 'Dockerfile'), 'FROM busybox\nRUN echo one > /one\n');
  const next = build(root, context);
  ok(t, next);
  t.true(steps(next).cached.length === 1);
});

/** PIDs of processes whose command line contains `text`. */
async function sandboxesWith(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').join(' ').includes(text)) pids.push(Number(name));
  }
  return pids;
}

test('examples/hello (the quick start) builds, and kiln save turns it into an OCI tar skopeo and umoci accept', async (t) => {
  const { root } = await setup({});
  const example = new URL('../../examples/hello', import.meta.url).pathname;
  ok(t, build(root, example, ['-t', 'hello:1', '--build-arg', 'GREETING=hi']));
  const tarPath = join(work, `hello-${n++}.tar`);
  ok(t, kiln(root, ['save', '-o', tarPath, 'hello:1']));
  const skopeo = JSON.parse(execFileSync('skopeo', ['inspect', `oci-archive:${tarPath}`], { encoding: 'utf8' })) as { Layers: string[] };
  t.true(skopeo.Layers.length >= 4);
  const layout = join(work, `hello-layout-${n++}`);
  const bundle = join(work, `hello-bundle-${n++}`);
  execFileSync('skopeo', ['copy', `oci-archive:${tarPath}`, `oci:${layout}:hello`]);
  execFileSync('umoci', ['unpack', '--image', `${layout}:hello`, bundle]);
  t.regex(await readFile(join(bundle, 'rootfs', 'usr', 'local', 'bin', 'greet'), 'utf8'), /echo "hi from/);
  t.deepEqual(inspect(root, 'hello:1').Config['Cmd'], ['greet']);
});

test('a build stores its layers uncompressed; kiln save writes them gzip once, and a second save reuses that form', async (t) => {
  // Over 1 MiB of text, so the gzip writer deflates the layer in several pieces.
  const lines = Array.from({ length: 60_000 }, (_, i) => `line ${i} ${(i * 7919) % 10007}`).join('\n');
  const { root, context } = await setup({ 'Dockerfile': 'FROM busybox\nCOPY . /ctx\nRUN echo made > /made\n', 'data.txt': lines, 'small.txt': 'small\n' });
  ok(t, build(root, context, ['-t', 'stored:1']));
  const image = inspect(root, 'stored:1') as ReturnType<typeof inspect> & { Descriptor: { digest: string } };
  const manifestOf = async (digest: string) =>
    JSON.parse(await readFile(join(root, 'blobs', 'sha256', digest.slice('sha256:'.length)), 'utf8')) as { layers: { mediaType: string; digest: string }[] };
  const built = await manifestOf(image.Descriptor.digest);
  t.deepEqual(
    built.layers.map((l) => l.mediaType),
    ['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar', 'application/vnd.oci.image.layer.v1.tar'],
    'the imported base is gzip; the two layers the build made are plain tars',
  );
  t.deepEqual(built.layers.slice(1).map((l) => l.digest), image.RootFS.Layers.slice(1), 'an uncompressed layer is stored under its DiffID');

  const blobs = async () => (await readdir(join(root, 'blobs', 'sha256'))).length;
  const before = await blobs();
  const first = join(work, `stored-${n++}.tar`);
  ok(t, kiln(root, ['save', '-o', first, 'stored:1']));
  t.is(await blobs(), before + 3, 'the save compressed the two layers and wrote one manifest');
  const saved = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci-archive:${first}`], { encoding: 'utf8' })) as { layers: { mediaType: string; digest: string }[] };
  t.deepEqual([...new Set(saved.layers.map((l) => l.mediaType))], ['application/vnd.oci.image.layer.v1.tar+gzip']);
  for (const [i, layer] of saved.layers.entries()) {
    const blob = execFileSync('tar', ['-xOf', first, `blobs/sha256/${layer.digest.slice('sha256:'.length)}`], { maxBuffer: 1 << 28 });
    const plain = execFileSync('gzip', ['-d', '-c'], { input: blob, maxBuffer: 1 << 28 });
    t.is(`sha256:${createHash('sha256').update(plain).digest('hex')}`, String(image.RootFS.Layers[i]), `layer ${i} gunzips to its DiffID`);
  }
  const layout = join(work, `stored-layout-${n++}`);
  const bundle = join(work, `stored-bundle-${n++}`);
  execFileSync('skopeo', ['copy', `oci-archive:${first}`, `oci:${layout}:stored`]);
  execFileSync('umoci', ['unpack', '--image', `${layout}:stored`, bundle]);
  t.is(await readFile(join(bundle, 'rootfs', 'ctx', 'data.txt'), 'utf8'), lines);
  t.is(await readFile(join(bundle, 'rootfs', 'made'), 'utf8'), 'made\n');
  t.regex(execFileSync('skopeo', ['inspect', `docker-archive:${first}`], { encoding: 'utf8' }), /"Layers"/);

  const second = join(work, `stored-${n++}.tar`);
  ok(t, kiln(root, ['save', '-o', second, 'stored:1']));
  t.is(await blobs(), before + 3, 'the second save compressed nothing');
  t.true((await readFile(second)).equals(await readFile(first)));
  // A rebuild from the cache, then an OCI output, reuse the same form as well.
  const output = join(work, `stored-${n++}.tar`);
  ok(t, build(root, context, ['-t', 'stored:1', '--output', `type=oci,dest=${output}`]));
  t.is(await blobs(), before + 3);
  t.deepEqual((JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci-archive:${output}`], { encoding: 'utf8' })) as typeof saved).layers, saved.layers);
});

test('--memory applies to every RUN: a memory hog is killed and reported; --pids-limit is accepted', async (t) => {
  const { root, context } = await setup({ 'Dockerfile': 'FROM busybox\nRUN true\nRUN dd if=/dev/zero of=/dev/null bs=256M count=1\n' });
  const r = kiln(root, ['build', '--progress', 'plain', '--memory', '64m', '--pids-limit', '50', context]);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /out of memory/);
});

test('--label, --no-cache-filter, --security=insecure with --allow, and tar and docker outputs (one to standard output)', async (t) => {
  const { root, context } = await setup({
    'Dockerfile': [
      'FROM busybox AS first',
      'RUN echo a > /a',
      'FROM first AS second',
      'RUN --security=insecure grep CapEff /proc/self/status > /caps',
      '',
    ].join('\n'),
  });
  const tarOut = join(context, '..', 'fs.tar');
  ok(t, build(root, context, ['-t', 'flags:1', '--label', 'team=kiln', '--allow', 'security.insecure', '--output', `type=tar,dest=${tarOut}`]));
  t.deepEqual(inspect(root, 'flags:1').Config['Labels'], { team: 'kiln' });
  const listing = execFileSync('tar', ['-tf', tarOut], { encoding: 'utf8' });
  t.true(listing.split('\n').some((l) => l.replace(/^\.\//, '') === 'caps'));
  const caps = execFileSync('tar', ['-xOf', tarOut, listing.split('\n').find((l) => l.replace(/^\.\//, '') === 'caps') ?? 'caps'], { encoding: 'utf8' });
  const own = /^CapBnd:\s*([0-9a-f]+)$/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1];
  t.is(caps.trim(), `CapEff:\t${own}`, 'every capability kiln has');

  const again = build(root, context, ['--allow', 'security.insecure', '--no-cache-filter', 'second']);
  ok(t, again);
  t.true(steps(again).cached.some((s) => s.includes('RUN echo a')));
  t.true(steps(again).ran.some((s) => s.includes('--security=insecure')));

  const refused = kiln(root, ['build', '--progress', 'plain', '--no-cache', context]);
  t.not(refused.code, 0);
  t.regex(refused.stderr, /security\.insecure/);

  const docker = spawnSync(process.execPath, [CLI, '--root', root, 'build', '--progress', 'quiet', '--allow', 'security.insecure', '-t', 'flags:2', '--output', 'type=docker,dest=-', context], {
    maxBuffer: 1 << 28,
  });
  t.is(docker.status, 0, docker.stderr.toString());
  const path = join(context, '..', 'docker.tar');
  await writeFile(path, docker.stdout);
  t.regex(execFileSync('skopeo', ['inspect', `docker-archive:${path}`], { encoding: 'utf8' }), /"Layers"/);
});

test('COPY --link makes a layer of its own: kept from the cache when an earlier step changes, and the steps after it rerun', async (t) => {
  const { root, context } = await setup({
    'Dockerfile': 'FROM busybox\nARG V=1\nRUN echo $V > /v\nCOPY --link app.txt /app/\nRUN cat /v /app/app.txt > /both\n',
    'app.txt': 'app',
  });
  const out = join(context, '..', 'out');
  ok(t, build(root, context, ['--output', `type=local,dest=${out}`]));
  t.is(await readFile(join(out, 'both'), 'utf8'), '1\napp');
  const again = join(context, '..', 'again');
  const second = build(root, context, ['--build-arg', 'V=2', '--output', `type=local,dest=${again}`]);
  ok(t, second);
  const s = steps(second);
  t.true(s.cached.some((x) => x.includes('COPY --link')), JSON.stringify(s));
  t.true(s.ran.some((x) => x.includes('RUN echo')), JSON.stringify(s));
  t.true(s.ran.some((x) => x.includes('RUN cat')), JSON.stringify(s));
  t.is(await readFile(join(again, 'both'), 'utf8'), '2\napp');
  t.is(await readFile(join(again, 'app', 'app.txt'), 'utf8'), 'app');
});

test('--ssh forwards an agent socket, --max-parallelism 1 runs stages one at a time, --cpus is accepted, --progress tty draws a final frame', async (t) => {
  const agent = join(work, `agent-${n++}.sock`);
  const server = createNetServer((socket) => socket.end('agent\n'));
  await new Promise<void>((resolve) => server.listen(agent, resolve));
  t.teardown(() => server.close());
  const { root, context } = await setup({
    'Dockerfile': [
      'FROM busybox AS a',
      'RUN sleep 1 && echo a > /a',
      'FROM busybox AS b',
      'RUN sleep 1 && echo b > /b',
      'FROM busybox',
      'COPY --from=a /a /a',
      'COPY --from=b /b /b',
      'RUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo "$SSH_AUTH_SOCK" > /sock',
      '',
    ].join('\n'),
  });
  const out = join(context, '..', 'out');
  const started = Date.now();
  const r = await kilnAsync(root, ['build', '--progress', 'tty', '--ssh', `default=${agent}`, '--max-parallelism', '1', '--cpus', '1.5', '--output', `type=local,dest=${out}`, context]);
  const elapsed = Date.now() - started;
  t.is(r.code, 0, r.stderr);
  t.regex(await readFile(join(out, 'sock'), 'utf8'), /^\/run\/buildkit\/ssh_agent\.0\n$/);
  t.false(existsSync(join(out, 'run', 'buildkit')), 'the socket mount point is not in the image');
  t.true(elapsed >= 2000, `two sleep stages one at a time took ${elapsed} ms`);
  t.regex(r.stderr, /FINISHED/);
});

test('a cache mount with sharing=locked is used by one build at a time, across kiln processes', async (t) => {
  const step = (name: string) =>
    `FROM busybox\nRUN --mount=type=cache,id=shared,target=/c,sharing=locked sh -c "echo start ${name} >> /c/log; sleep 1; echo end ${name} >> /c/log"\n`;
  const { root, context } = await setup({ 'Dockerfile': step('one') });
  const other = join(context, '..', 'other');
  await mkdir(other);
  await writeFile(join(other, 'Dockerfile'), step('two'));
  const [a, b] = await Promise.all([kilnAsync(root, ['build', '--progress', 'plain', context]), kilnAsync(root, ['build', '--progress', 'plain', other])]);
  t.is(a.code, 0, a.stderr);
  t.is(b.code, 0, b.stderr);
  const log = (await readFile(join(root, 'cache', 'mounts', Buffer.from('shared').toString('base64url'), 'log'), 'utf8')).trim().split('\n');
  t.is(log.length, 4);
  t.true(log[0]!.startsWith('start') && log[1]!.startsWith('end') && log[2]!.startsWith('start') && log[3]!.startsWith('end'), log.join(' | '));
  t.is(log[0]!.slice(6), log[1]!.slice(4));
});

test('--output compression=zstd or uncompressed writes the layers in that codec, the image ID unchanged', async (t) => {
  const { root, context } = await setup({ 'Dockerfile': 'FROM busybox\nRUN echo z > /z\n' });
  const zstd = join(context, '..', 'zstd.tar');
  const plain = join(context, '..', 'plain.tar');
  ok(t, build(root, context, ['-t', 'codec:1', '--output', `type=oci,dest=${zstd},compression=zstd`]));
  ok(t, build(root, context, ['-t', 'codec:2', '--output', `type=oci,dest=${plain},compression=uncompressed`]));
  t.is(inspect(root, 'codec:1').Id, inspect(root, 'codec:2').Id);
  const types = (path: string) =>
    (JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci-archive:${path}`], { encoding: 'utf8' })) as { layers: { mediaType: string }[] }).layers.map(
      (l) => l.mediaType,
    );
  t.deepEqual([...new Set(types(zstd))], ['application/vnd.oci.image.layer.v1.tar+zstd']);
  t.deepEqual([...new Set(types(plain))], ['application/vnd.oci.image.layer.v1.tar']);
  // Debian's umoci reads no zstd layers: the uncompressed archive goes through it, the zstd
  // one through kiln load (which checks every layer against its DiffID) on a fresh root.
  const bundle = join(work, `codec-bundle-${n++}`);
  const layout = join(work, `codec-layout-${n++}`);
  execFileSync('skopeo', ['copy', `oci-archive:${plain}`, `oci:${layout}:z`]);
  execFileSync('umoci', ['unpack', '--image', `${layout}:z`, bundle]);
  t.is(await readFile(join(bundle, 'rootfs', 'z'), 'utf8'), 'z\n');
  const fresh = join(work, `codec-root-${n++}`);
  ok(t, kiln(fresh, ['load', '-i', zstd]));
  t.is(inspect(fresh, 'codec:1').Id, inspect(root, 'codec:1').Id);
  t.is(kiln(root, ['build', '--output', 'type=oci,dest=x,compression=lz4', context]).code, 2);
});

test('COPY --parents, --exclude, symbolic --chmod, a lone --chown uid, COPY --from an index and an image, ADD of an xz tar', async (t) => {
  const { root, context } = await setup({
    'Dockerfile': [
      'FROM busybox AS zero',
      'RUN echo from-index > /indexed',
      'FROM busybox',
      'COPY --parents a/./b/c.txt /p/',
      'COPY --exclude=*.log logs/ /logs/',
      'COPY --chmod=u=rwx,go=r --chown=1234 tool.sh /tool.sh',
      'COPY --from=0 /indexed /indexed',
      'COPY --from=busybox /bin/busybox /from-image',
      'ADD tree.tar.xz /xz/',
      '',
    ].join('\n'),
    'a/b/c.txt': 'c',
    'logs/keep.txt': 'k',
    'logs/drop.log': 'd',
    'tool.sh': '#!/bin/sh\n',
    'tree/inside.txt': 'xz',
  });
  execFileSync('sh', ['-c', `tar -C ${join(context, 'tree')} -cf - inside.txt | xz > ${join(context, 'tree.tar.xz')}`]);
  const out = join(context, '..', 'out');
  ok(t, build(root, context, ['--output', `type=local,dest=${out}`]));
  t.is(await readFile(join(out, 'p', 'b', 'c.txt'), 'utf8'), 'c');
  t.true(existsSync(join(out, 'logs', 'keep.txt')));
  t.false(existsSync(join(out, 'logs', 'drop.log')));
  const tool = await stat(join(out, 'tool.sh'));
  t.is(`${tool.uid}:${tool.gid} ${(tool.mode & 0o777).toString(8)}`, '1234:1234 744');
  t.is(await readFile(join(out, 'indexed'), 'utf8'), 'from-index\n');
  t.true((await stat(join(out, 'from-image'))).size > 100_000);
  t.is(await readFile(join(out, 'xz', 'inside.txt'), 'utf8'), 'xz');
});

test('build args and env in RUN: proxies undeclared, TARGETARCH only once declared, HOME for a uid without an entry, <<- heredocs, a miss explained by an arg', async (t) => {
  const { root, context } = await setup({
    'Dockerfile': [
      'FROM busybox',
      'RUN echo "proxy=$HTTP_PROXY arch=[$TARGETARCH]" > /before',
      'ARG TARGETARCH',
      'ARG MODE=a',
      'RUN echo "arch=$TARGETARCH mode=$MODE" > /after && mkdir -p /tmp && chmod 1777 /tmp',
      'USER 4321',
      'RUN echo "home=$HOME id=$(id -u):$(id -g)" > /tmp/user',
      'USER root',
      'RUN <<-EOF',
      '\techo tabs-stripped > /heredoc',
      '\tEOF',
      '',
    ].join('\n'),
  });
  const out = join(context, '..', 'out');
  ok(t, build(root, context, ['--build-arg', 'HTTP_PROXY=http://proxy.invalid:3128', '--output', `type=local,dest=${out}`]));
  t.is(await readFile(join(out, 'before'), 'utf8'), 'proxy=http://proxy.invalid:3128 arch=[]\n');
  t.regex(await readFile(join(out, 'after'), 'utf8'), /^arch=(amd64|arm64) mode=a\n$/);
  t.is(await readFile(join(out, 'tmp', 'user'), 'utf8'), 'home=/ id=4321:0\n');
  t.is(await readFile(join(out, 'heredoc'), 'utf8'), 'tabs-stripped\n');
  const history = kiln(root, ['build', '--progress', 'quiet', '--build-arg', 'HTTP_PROXY=http://proxy.invalid:3128', context]);
  ok(t, history);
  t.false(kiln(root, ['history', '--no-trunc', history.stdout.trim()]).stdout.includes('proxy.invalid'), 'proxies stay out of the history');
  const changed = build(root, context, ['--build-arg', 'MODE=b']);
  ok(t, changed);
  t.true(events(changed).some((e) => e.kind === 'started' && e.cacheMiss === 'env MODE changed'), JSON.stringify(events(changed).filter((e) => e.kind === 'started')));
});

test('a build killed with SIGKILL leaves no sandbox process or mount, and the next build works', async (t) => {
  const { root, context } = await setup({ 'Dockerfile': 'FROM busybox\nRUN echo kiln-sigkill-token && sleep 301\n' });
  const { startKiln } = await import('./kiln.ts');
  const started = startKiln(root, ['build', '--progress', 'plain', context]);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && (await sandboxesWith('sleep 301')).length === 0) await new Promise((r) => setTimeout(r, 100));
  process.kill(started.pid, 'SIGKILL');
  await started.result;
  const gone = Date.now() + 10_000;
  while (Date.now() < gone && (await sandboxesWith('sleep 301')).length > 0) await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(await sandboxesWith('sleep 301'), []);
  await writeFile(join(context, 'Dockerfile'), 'FROM busybox\nRUN echo after > /after\n');
  ok(t, build(root, context));
  t.false((await readFile('/proc/self/mountinfo', 'utf8')).includes(root), 'no mount is left under the root');
  t.is(kiln(root, ['fsck']).code, 0);
});

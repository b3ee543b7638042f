import test from 'ava';
import { defaultArgs, proxyEnv, unusedBuildArgs } from './build-args.ts';
import { build, execOf, newHistory } from './compile-fixture.ts';

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

test('a global ARG reaches a stage only after the stage declares it, with the global value', async (t) => {
  const r = await build('ARG V=1.0\nFROM busybox\nRUN echo a\nARG V\nRUN echo b\n');
  t.deepEqual(execOf(r, 'echo a').env, [PATH]);
  t.deepEqual(execOf(r, 'echo b').env, [PATH, 'V=1.0']);
  t.deepEqual(newHistory(r).map((h) => h.created_by), [
    'RUN /bin/sh -c echo a # buildkit',
    'ARG V=1.0',
    'RUN |1 V=1.0 /bin/sh -c echo b # buildkit',
  ]);
});

test('a stage ARG default is expanded with the stage so far; a build arg replaces it unexpanded', async (t) => {
  const text = 'FROM busybox\nENV BASE=/opt\nARG DIR=$BASE/app\nRUN ls $DIR\n';
  t.true(execOf(await build(text), 'RUN').env.includes('DIR=/opt/app'));
  const given = await build(text, { buildArgs: { DIR: '$BASE/x' } });
  t.true(execOf(given, 'RUN').env.includes('DIR=$BASE/x'));
  t.is(newHistory(given)[1]?.created_by, 'ARG DIR=$BASE/x');
});

test('ENV then ARG with a build arg: later steps see the ARG value, the config keeps the ENV value', async (t) => {
  const r = await build('FROM busybox\nENV X=env\nARG X\nENV Y=$X\nRUN echo $X\n', { buildArgs: { X: 'arg' } });
  t.deepEqual(execOf(r, 'RUN').env, [PATH, 'X=arg', 'Y=arg']);
  t.deepEqual(r.config.config?.Env, [PATH, 'X=env', 'Y=arg']);
});

test('ARG then ENV of the same name: the ENV value wins everywhere', async (t) => {
  const r = await build('FROM busybox\nARG X=arg\nENV X=env\nRUN echo $X\n', { buildArgs: { X: 'given' } });
  t.deepEqual(execOf(r, 'RUN').env, [PATH, 'X=env']);
  t.deepEqual(r.config.config?.Env, [PATH, 'X=env']);
  t.is(newHistory(r)[2]?.created_by, 'RUN |1 X=env /bin/sh -c echo $X # buildkit');
});

test('proxy build args reach RUN without an ARG, in both cases, and stay out of config, history and the cache key', async (t) => {
  const r = await build('FROM busybox\nRUN wget x\n', { buildArgs: { https_proxy: 'http://proxy:3128', NO_PROXY: 'localhost' } });
  t.deepEqual(execOf(r, 'RUN').env, [PATH]);
  t.deepEqual(execOf(r, 'RUN').proxyEnv, [
    'HTTPS_PROXY=http://proxy:3128',
    'https_proxy=http://proxy:3128',
    'NO_PROXY=localhost',
    'no_proxy=localhost',
  ]);
  t.deepEqual(r.config.config?.Env, [PATH]);
  t.is(newHistory(r)[0]?.created_by, 'RUN /bin/sh -c wget x # buildkit');
  t.deepEqual(r.diagnostics, []);
});

test('automatic platform ARGs: usable in FROM, seen in a stage only after ARG, overridable', async (t) => {
  const text = 'FROM busybox\nRUN echo a\nARG TARGETARCH TARGETPLATFORM BUILDOS\nRUN echo $TARGETARCH\n';
  const r = await build(text);
  t.deepEqual(execOf(r, '[2/3] RUN echo a').env, [PATH]);
  t.deepEqual(execOf(r, '[3/3] RUN echo amd64').env, [PATH, 'TARGETARCH=amd64', 'TARGETPLATFORM=linux/amd64', 'BUILDOS=linux']);
  t.is(newHistory(r)[1]?.created_by, 'ARG TARGETARCH=amd64 TARGETPLATFORM=linux/amd64 BUILDOS=linux');
  const variant = await build(text, { platform: { os: 'linux', architecture: 'arm', variant: 'v7' } });
  t.true(execOf(variant, '[3/3] RUN echo arm').env.includes('TARGETPLATFORM=linux/arm/v7'));
  t.is(variant.config.variant, 'v7');
});

test('an ARG without value or global stays unset but is listed in RUN history', async (t) => {
  const r = await build('FROM busybox\nARG NONE\nRUN true\n');
  t.deepEqual(execOf(r, 'RUN').env, [PATH]);
  t.deepEqual(newHistory(r).map((h) => h.created_by), ['ARG NONE', 'RUN |1 NONE= /bin/sh -c true # buildkit']);
});

test('RUN history lists each ARG in scope once, with its current value, in declaration order', async (t) => {
  const r = await build('FROM busybox\nARG B=1 A=2\nARG B=3\nRUN true\n');
  t.is(newHistory(r)[2]?.created_by, 'RUN |2 B=3 A=2 /bin/sh -c true # buildkit');
});

test('a stage built on another inherits its ARG values and lists them in RUN history', async (t) => {
  const r = await build('FROM busybox AS base\nARG V=1\nFROM base\nRUN true\n');
  t.true(execOf(r, 'RUN').env.includes('V=1'));
  t.is(newHistory(r).at(-1)?.created_by, 'RUN |1 V=1 /bin/sh -c true # buildkit');
});

test('a variable set again moves to the end of the RUN environment, as BuildKit orders it', async (t) => {
  const r = await build('FROM busybox\nENV A=1 B=2\nENV A=3\nRUN env\n');
  t.deepEqual(execOf(r, 'RUN').env, [PATH, 'B=2', 'A=3']);
  t.deepEqual(r.config.config?.Env, [PATH, 'A=3', 'B=2']);
});

test('global ARG defaults see the global ARGs before them and the platform ARGs', async (t) => {
  const r = await build('ARG A=x\nARG B=${A}-${TARGETOS}\nFROM busybox\nARG B\nRUN true\n');
  t.true(execOf(r, 'RUN').env.includes('B=x-linux'));
});

test('defaultArgs: the platform, TARGETSTAGE, and build args over them', (t) => {
  const args = new Map(defaultArgs({ os: 'linux', architecture: 'arm64' }, new Map([['BUILDARCH', 'x']]), undefined));
  t.is(args.get('TARGETPLATFORM'), 'linux/arm64');
  t.is(args.get('TARGETVARIANT'), '');
  t.is(args.get('BUILDARCH'), 'x');
  t.is(args.get('TARGETSTAGE'), 'default');
});

test('proxyEnv: either case gives both variables; the lower-case one wins when both are given', (t) => {
  t.deepEqual(proxyEnv(new Map([['HTTP_PROXY', 'a'], ['http_proxy', 'b'], ['FOO', 'c'], ['all_proxy', '']])), ['HTTP_PROXY=b', 'http_proxy=b']);
});

test('unusedBuildArgs leaves out declared and predefined names, sorted', (t) => {
  const given = new Map([['b', ''], ['a', ''], ['BUILDKIT_INLINE_CACHE', '1'], ['SOURCE_DATE_EPOCH', '0'], ['ftp_proxy', 'x']]);
  t.deepEqual(unusedBuildArgs(given, new Set(['b'])), ['a']);
});

test('TARGETSTAGE is the --target, else the last stage\'s name, else default', async (t) => {
  const text = 'FROM busybox AS first\nARG TARGETSTAGE\nRUN echo\nFROM busybox AS last\nARG TARGETSTAGE\nRUN echo\n';
  t.true(execOf(await build(text, { target: 'first' }), 'RUN').env.includes('TARGETSTAGE=first'));
  t.true(execOf(await build(text), 'RUN').env.includes('TARGETSTAGE=last'));
  t.true(execOf(await build('FROM busybox\nARG TARGETSTAGE\nRUN echo\n'), 'RUN').env.includes('TARGETSTAGE=default'));
});

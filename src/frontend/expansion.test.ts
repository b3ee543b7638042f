import test from 'ava';
import { EXPANDED_INSTRUCTIONS } from '../shell/index.ts';
import { build, execOf, fileOf } from './compile-fixture.ts';

// Each case: a Dockerfile using $V (V=x is set by ENV before it), and what the compiled
// result shows for the part EXPANDED_INSTRUCTIONS says is expanded, or taken literally.
const prelude = 'FROM busybox\nENV V=x\n';

test('instructions EXPANDED_INSTRUCTIONS marks unexpanded keep $V as written', async (t) => {
  const none = Object.entries(EXPANDED_INSTRUCTIONS).filter(([, e]) => e.scope === 'none').map(([name]) => name).sort();
  t.deepEqual(none, ['CMD', 'ENTRYPOINT', 'HEALTHCHECK', 'MAINTAINER', 'ONBUILD', 'SHELL']);
  const r = await build(`${prelude}MAINTAINER $V\nCMD echo $V\nENTRYPOINT ["$V"]\nHEALTHCHECK CMD test $V\nSHELL ["/bin/$V", "-c"]\nONBUILD RUN $V\n`);
  const c = r.config.config;
  t.is(r.config.author, '$V');
  t.deepEqual(c?.Cmd, ['/bin/sh', '-c', 'echo $V']);
  t.deepEqual(c?.Entrypoint, ['$V']);
  t.deepEqual(c?.Healthcheck?.Test, ['CMD-SHELL', 'test $V']);
  t.deepEqual(c?.Shell, ['/bin/$V', '-c']);
  t.deepEqual(c?.OnBuild, ['RUN $V']);
});

test('instructions EXPANDED_INSTRUCTIONS marks expanded see the stage\'s variables', async (t) => {
  const stage = Object.entries(EXPANDED_INSTRUCTIONS).filter(([, e]) => e.scope === 'stage').map(([name]) => name).sort();
  t.deepEqual(stage, ['ADD', 'ARG', 'COPY', 'ENV', 'EXPOSE', 'LABEL', 'RUN', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);
  const r = await build(
    `${prelude}ENV K_$V=$V\nLABEL l_$V=$V\nEXPOSE 80$\{V:+81}\nVOLUME /v/$V\nUSER u$V\nWORKDIR /w/$V\nSTOPSIGNAL SIG$\{V:+TERM}\n` +
      `ARG A=a$V\nCOPY --chown=$V --chmod=$\{V:+755} s/$V d/$V/\nADD --chown=$V a$V /add/\nRUN --mount=type=cache,target=/c/$V echo $V\n`,
  );
  const c = r.config.config;
  t.true(c?.Env?.includes('K_x=x'));
  t.deepEqual(c?.Labels, { l_x: 'x' });
  t.deepEqual(Object.keys(c?.ExposedPorts ?? {}), ['8081/tcp']);
  t.deepEqual(Object.keys(c?.Volumes ?? {}), ['/v/x']);
  t.is(c?.User, 'ux');
  t.is(c?.WorkingDir, '/w/x');
  t.is(c?.StopSignal, 'SIGTERM');
  t.like(fileOf(r, 'COPY').actions[0], { sources: ['s/x'], dest: '/w/x/d/x/', chown: 'x', chmod: '755' });
  t.like(fileOf(r, 'ADD').actions[0], { sources: ['ax'], chown: 'x' });
  const run = execOf(r, 'RUN');
  t.true(run.env.includes('A=ax'));
  t.deepEqual(run.argv, ['/bin/sh', '-c', 'echo $V']);
  t.like(run.mounts[0], { target: '/c/x' });
});

test('FROM is expanded with the global ARGs only, never with stage variables', async (t) => {
  t.is(EXPANDED_INSTRUCTIONS.FROM.scope, 'global-args');
  const r = await build('ARG IMG=busybox\nFROM ${IMG} AS a\nENV IMG=alpine:3.20\nFROM ${IMG}\n');
  t.deepEqual(r.lookups, ['docker.io/library/busybox:latest']);
});

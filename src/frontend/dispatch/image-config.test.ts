import test from 'ava';
import { DockerfileError } from '../../errors/index.ts';
import { build, names, newHistory } from '../compile-fixture.ts';

const entry = (created_by: string) => ({ created_by, comment: 'buildkit.dockerfile.v0', empty_layer: true });

test('CMD: the shell form through SHELL, the exec form as written, ArgsEscaped set; history as Go %q', async (t) => {
  const shell = await build('FROM busybox\nCMD echo "hi there"\n');
  t.deepEqual(shell.config.config?.Cmd, ['/bin/sh', '-c', 'echo "hi there"']);
  t.true(shell.config.config?.ArgsEscaped);
  t.deepEqual(newHistory(shell), [entry('CMD ["/bin/sh" "-c" "echo \\"hi there\\""]')]);
  const exec = await build('FROM busybox\nSHELL ["/bin/bash", "-c"]\nCMD ["nginx", "-g", "daemon off;"]\n');
  t.deepEqual(exec.config.config?.Cmd, ['nginx', '-g', 'daemon off;']);
  t.deepEqual(exec.config.config?.Shell, ['/bin/bash', '-c']);
  t.deepEqual(newHistory(exec).map((h) => h.created_by), ['SHELL [/bin/bash -c]', 'CMD ["nginx" "-g" "daemon off;"]']);
});

test('ENTRYPOINT clears the base CMD, but not a CMD set before it in the stage', async (t) => {
  const cleared = await build('FROM busybox\nENTRYPOINT ["/init"]\n');
  t.deepEqual(cleared.config.config?.Entrypoint, ['/init']);
  t.is(cleared.config.config?.Cmd, undefined);
  const kept = await build('FROM busybox\nCMD ["--help"]\nENTRYPOINT /init\n');
  t.deepEqual(kept.config.config?.Entrypoint, ['/bin/sh', '-c', '/init']);
  t.deepEqual(kept.config.config?.Cmd, ['--help']);
  const none = await build('FROM busybox\nENTRYPOINT []\n');
  t.is(none.config.config?.Entrypoint, undefined);
  t.is(newHistory(none)[0]?.created_by, 'ENTRYPOINT []');
});

test('HEALTHCHECK: options in nanoseconds, CMD-SHELL for the shell form, history as Go %+v', async (t) => {
  const r = await build('FROM busybox\nHEALTHCHECK --interval=1m30s --timeout=1.5s --start-period=500ms --start-interval=2s --retries=3 CMD curl -f http://localhost/\n');
  t.deepEqual(r.config.config?.Healthcheck, {
    Test: ['CMD-SHELL', 'curl -f http://localhost/'],
    Interval: 90_000_000_000,
    Timeout: 1_500_000_000,
    StartPeriod: 500_000_000,
    StartInterval: 2_000_000_000,
    Retries: 3,
  });
  t.is(newHistory(r)[0]?.created_by, 'HEALTHCHECK {Test:[CMD-SHELL curl -f http://localhost/] Interval:1m30s Timeout:1.5s StartPeriod:500ms StartInterval:2s Retries:3}');
  const exec = await build('FROM busybox\nHEALTHCHECK CMD ["/bin/check", "-q"]\n');
  t.deepEqual(exec.config.config?.Healthcheck, { Test: ['CMD', '/bin/check', '-q'] });
  t.is(newHistory(exec)[0]?.created_by, 'HEALTHCHECK {Test:[CMD /bin/check -q] Interval:0s Timeout:0s StartPeriod:0s StartInterval:0s Retries:0}');
  const none = await build('FROM busybox\nHEALTHCHECK NONE\n');
  t.deepEqual(none.config.config?.Healthcheck, { Test: ['NONE'] });
});

test('HEALTHCHECK errors: bad durations, too short, negative retries, unknown type, NONE with arguments', async (t) => {
  const cases: [string, string][] = [
    ['HEALTHCHECK --interval=5 CMD x', 'HEALTHCHECK --interval: time: missing unit in duration "5"'],
    ['HEALTHCHECK --timeout=1d CMD x', 'HEALTHCHECK --timeout: time: unknown unit "d" in duration "1d"'],
    ['HEALTHCHECK --interval=10us CMD x', 'Interval "interval" cannot be less than 1ms'],
    ['HEALTHCHECK --retries=-1 CMD x', '--retries cannot be negative (-1)'],
    ['HEALTHCHECK --retries=x CMD x', 'HEALTHCHECK --retries: strconv.ParseInt: parsing "x": invalid syntax'],
    ['HEALTHCHECK RUN x', 'Unknown type "RUN" in HEALTHCHECK (try CMD)'],
    ['HEALTHCHECK NONE x', 'HEALTHCHECK NONE takes no arguments'],
    ['HEALTHCHECK CMD', 'Missing command after HEALTHCHECK CMD'],
    ['HEALTHCHECK --period=1s CMD x', 'HEALTHCHECK: unknown flag: --period'],
  ];
  for (const [line, message] of cases) {
    await t.throwsAsync(build(`FROM busybox\n${line}\n`), { instanceOf: DockerfileError, message }, line);
  }
});

test('EXPOSE: expanded, split into words, ranges and protocols normalised, history sorted as written', async (t) => {
  const r = await build('FROM busybox\nARG PORTS="9000 53/UDP"\nEXPOSE 8080-8081/tcp $PORTS 443\n');
  t.deepEqual(r.config.config?.ExposedPorts, { '443/tcp': {}, '53/udp': {}, '8080/tcp': {}, '8081/tcp': {}, '9000/tcp': {} });
  t.is(newHistory(r)[1]?.created_by, 'EXPOSE [9000/tcp 53/udp 443/tcp 8080/tcp 8081/tcp]');
  await t.throwsAsync(build('FROM busybox\nEXPOSE 80/http\n'), { instanceOf: DockerfileError, message: 'EXPOSE: invalid port: "80/http": invalid proto: http' });
  await t.throwsAsync(build('FROM busybox\nEXPOSE 70000\n'), { message: 'EXPOSE: invalid containerPort: 70000' });
});

test('LABEL and ENV expand keys and values; LABEL history as key=value', async (t) => {
  const r = await build('FROM busybox\nENV V=1.2\nLABEL "org.opencontainers.image.version"="$V" description="a b"\n');
  t.deepEqual(r.config.config?.Labels, { description: 'a b', 'org.opencontainers.image.version': '1.2' });
  t.deepEqual(newHistory(r).map((h) => h.created_by), ['ENV V=1.2', 'LABEL org.opencontainers.image.version=1.2 description=a b']);
});

test('ENV in the legacy form takes the rest of the line as the value', async (t) => {
  const r = await build('FROM busybox\nENV GREETING hello  world\n');
  t.true(r.config.config?.Env?.includes('GREETING=hello  world'));
});

test('USER, VOLUME, STOPSIGNAL and MAINTAINER set their fields with BuildKit\'s history', async (t) => {
  const r = await build('FROM busybox\nARG U=app\nUSER $U:staff\nVOLUME ["/data", "/$U"]\nSTOPSIGNAL SIGQUIT\nMAINTAINER Jane <jane@example.com>\n');
  t.is(r.config.config?.User, 'app:staff');
  t.deepEqual(r.config.config?.Volumes, { '/app': {}, '/data': {} });
  t.is(r.config.config?.StopSignal, 'SIGQUIT');
  t.is(r.config.author, 'Jane <jane@example.com>');
  t.deepEqual(newHistory(r).map((h) => h.created_by), ['ARG U=app', 'USER app:staff', 'VOLUME [/data /app]', 'STOPSIGNAL SIGQUIT', 'MAINTAINER Jane <jane@example.com>']);
  t.deepEqual(names(r), ['[1/1] FROM docker.io/library/busybox:latest']);
});

test('STOPSIGNAL accepts names and numbers and refuses the rest', async (t) => {
  t.is((await build('FROM busybox\nSTOPSIGNAL 9\n')).config.config?.StopSignal, '9');
  t.is((await build('FROM busybox\nSTOPSIGNAL rtmin+3\n')).config.config?.StopSignal, 'rtmin+3');
  await t.throwsAsync(build('FROM busybox\nSTOPSIGNAL SIGNOPE\n'), { instanceOf: DockerfileError, message: 'STOPSIGNAL: invalid signal: SIGNOPE' });
});

test('ONBUILD records the trigger in the config without a history entry', async (t) => {
  const r = await build('FROM busybox\nONBUILD COPY . /app\nONBUILD RUN <<EOF\nmake\nEOF\n');
  t.deepEqual(r.config.config?.OnBuild, ['COPY . /app', 'RUN <<EOF\nmake\nEOF']);
  t.deepEqual(newHistory(r), []);
});

test('SHELL must be JSON, VOLUME must not be empty', async (t) => {
  await t.throwsAsync(build('FROM busybox\nSHELL /bin/bash -c\n'), { instanceOf: DockerfileError, message: 'SHELL requires the arguments to be in JSON form' });
  await t.throwsAsync(build('FROM busybox\nARG E\nVOLUME $E\n'), { instanceOf: DockerfileError, message: 'VOLUME specified can not be an empty string' });
});

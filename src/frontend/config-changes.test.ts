import test from 'ava';
import { UsageError } from '../errors/index.ts';
import type { ImageConfig } from '../image/index.ts';
import { applyConfigChanges } from './config-changes.ts';

const base: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  config: { Env: ['PATH=/usr/bin:/bin', 'HOME=/root'], Cmd: ['sh'] },
  rootfs: { type: 'layers', diff_ids: [] },
};

test('shell-form CMD goes through /bin/sh -c, exec form is kept', (t) => {
  t.deepEqual(applyConfigChanges(base, ['CMD echo $HOME']).config?.Cmd, ['/bin/sh', '-c', 'echo $HOME']);
  t.deepEqual(applyConfigChanges(base, ['CMD ["top", "-b"]']).config?.Cmd, ['top', '-b']);
});

test('ENTRYPOINT resets CMD unless a CMD follows it', (t) => {
  t.is(applyConfigChanges(base, ['ENTRYPOINT ["/init"]']).config?.Cmd, null);
  t.deepEqual(applyConfigChanges(base, ['CMD ["x"]', 'ENTRYPOINT ["/init"]']).config?.Cmd, ['x']);
});

test('ENV replaces in place, appends new keys, and expands with the env before it', (t) => {
  const c = applyConfigChanges(base, ['ENV HOME=/home/app NEW=$HOME', 'ENV LAST=${NEW}-x']).config;
  t.deepEqual(c?.Env, ['PATH=/usr/bin:/bin', 'HOME=/home/app', 'NEW=/root', 'LAST=/root-x']);
});

test('EXPOSE normalises protocols and expands ranges', (t) => {
  const c = applyConfigChanges(base, ['EXPOSE 80 53/udp 8000-8002']).config;
  t.deepEqual(Object.keys(c?.ExposedPorts ?? {}), ['80/tcp', '53/udp', '8000/tcp', '8001/tcp', '8002/tcp']);
});

test('WORKDIR is relative to the previous one; LABEL, USER, VOLUME, STOPSIGNAL, ONBUILD set their fields', (t) => {
  const c = applyConfigChanges(base, [
    'WORKDIR /app',
    'WORKDIR sub',
    'LABEL a="b c"',
    'USER 1000:1000',
    'VOLUME ["/data"]',
    'STOPSIGNAL SIGINT',
    'ONBUILD RUN echo hi',
  ]).config;
  t.is(c?.WorkingDir, '/app/sub');
  t.deepEqual(c?.Labels, { a: 'b c' });
  t.is(c?.User, '1000:1000');
  t.deepEqual(c?.Volumes, { '/data': {} });
  t.is(c?.StopSignal, 'SIGINT');
  t.deepEqual(c?.OnBuild, ['RUN echo hi']);
});

test('a change that is not allowed, or not one instruction, is a usage error naming it', (t) => {
  t.throws(() => applyConfigChanges(base, ['RUN rm -rf /']), { instanceOf: UsageError, message: /RUN cannot be changed/ });
  t.throws(() => applyConfigChanges(base, ['CMD a\nCMD b']), { instanceOf: UsageError, message: /exactly one/ });
  t.throws(() => applyConfigChanges(base, ['NOPE x']), { instanceOf: UsageError, message: /unknown instruction/ });
});

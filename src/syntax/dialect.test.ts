import test from 'ava';
import { checkSyntaxDirective } from './dialect.ts';
import { parseDockerfile } from './parse.ts';

function check(syntax: string) {
  return checkSyntaxDirective(parseDockerfile(`# syntax=${syntax}\nFROM scratch\n`).ast);
}

for (const ok of [
  'docker/dockerfile:1',
  'docker/dockerfile:1.7',
  'docker/dockerfile:1.7.1',
  'docker/dockerfile:1-labs',
  'docker/dockerfile:1.4-labs',
  'docker.io/docker/dockerfile:1',
  'docker/dockerfile',
  'docker/dockerfile:latest',
  `docker/dockerfile:1@sha256:${'a'.repeat(64)}`,
  'docker/dockerfile:1 --some-arg',
]) {
  test(`# syntax=${ok} is kiln's own dialect`, (t) => {
    t.is(check(ok), undefined);
  });
}

for (const bad of ['docker/dockerfile:2', 'docker/dockerfile:0.9', 'docker/dockerfile-upstream:master', 'example.com/my/frontend:1', 'tonistiigi/dockerfile:1']) {
  test(`# syntax=${bad} is refused with the directive's line`, (t) => {
    const d = check(bad);
    t.is(d?.code, 'unsupported-frontend');
    t.is(d?.range.start.line, 1);
    t.true(d?.message.includes(bad.split(' ')[0] ?? ''));
  });
}

test('no syntax directive needs no check', (t) => {
  t.is(checkSyntaxDirective(parseDockerfile('FROM scratch\n').ast), undefined);
});

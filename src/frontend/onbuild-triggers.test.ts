import test from 'ava';
import { DockerfileError } from '../errors/index.ts';
import type { ImageConfig } from '../image/index.ts';
import { parseDockerfile } from '../syntax/index.ts';
import type { InstructionInput } from './instructions/instruction-input.ts';
import { parseInstruction } from './instructions/parse-instruction.ts';
import { BUSYBOX, build, execOf, fileOf, names, vertexNamed } from './compile-fixture.ts';

const withTriggers = (...OnBuild: string[]): Record<string, ImageConfig> => ({
  'docker.io/library/onbuild:latest': { ...BUSYBOX, config: { ...BUSYBOX.config, OnBuild } },
});

test('a base image\'s ONBUILD triggers run right after FROM, numbered and marked ONBUILD', async (t) => {
  const r = await build('FROM onbuild\nRUN mine\n', { images: withTriggers('COPY . /app', 'RUN make -C /app') });
  // The FROM is named before the triggers are counted, as in BuildKit.
  t.deepEqual(names(r), [
    '[1/2] FROM docker.io/library/onbuild:latest',
    '[internal] load build context',
    '[2/4] ONBUILD COPY . /app',
    '[3/4] ONBUILD RUN make -C /app',
    '[4/4] RUN mine',
  ]);
  t.like(fileOf(r, 'ONBUILD COPY').actions[0], { sources: ['.'], dest: '/app' });
  t.is(r.config.config?.OnBuild, undefined);
  t.is(vertexNamed(r, 'ONBUILD RUN').range?.start.line, 1);
});

test('an earlier stage\'s ONBUILD instructions trigger in a stage built FROM it', async (t) => {
  const r = await build('FROM busybox AS base\nONBUILD ENV TRIGGERED=yes\nFROM base\nRUN env\n');
  t.true(execOf(r, 'RUN env').env.includes('TRIGGERED=yes'));
  t.is(r.config.config?.OnBuild, undefined);
});

test('a trigger that copies from another image adds that image to the build', async (t) => {
  const r = await build('FROM onbuild\n', { images: withTriggers('COPY --from=alpine:3.20 /etc/os-release /') });
  t.deepEqual(r.lookups, ['docker.io/library/onbuild:latest', 'docker.io/library/alpine:3.20']);
  t.is(vertexNamed(r, 'ONBUILD COPY').inputs[1]?.name, 'FROM docker.io/library/alpine:3.20');
});

test('ONBUILD ONBUILD, ONBUILD FROM and ONBUILD MAINTAINER are refused (for trees the parser did not check)', (t) => {
  const onbuild = parseDockerfile('ONBUILD RUN x\n').ast.instructions[0];
  if (onbuild?.trigger === undefined) throw new Error('no trigger parsed');
  const withTrigger = (name: string): InstructionInput => ({
    instruction: { ...onbuild, args: [name, 'x'], trigger: { ...onbuild.trigger!, name } },
    where: { file: 'Dockerfile', range: onbuild.range },
    onBuild: false,
  });
  t.throws(() => parseInstruction(withTrigger('ONBUILD')), { instanceOf: DockerfileError, message: "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed" });
  t.throws(() => parseInstruction(withTrigger('FROM')), { instanceOf: DockerfileError, message: "FROM isn't allowed as an ONBUILD trigger" });
  t.throws(() => parseInstruction(withTrigger('MAINTAINER')), { instanceOf: DockerfileError, message: "MAINTAINER isn't allowed as an ONBUILD trigger" });
});

test('a bad trigger in a base image is an error at the FROM', async (t) => {
  const e = await t.throwsAsync(build('ARG A\nFROM onbuild\n', { images: withTriggers('RUN --bogus x') }), { instanceOf: DockerfileError });
  t.is(e.message, 'ONBUILD trigger "RUN --bogus x": RUN: unknown flag: --bogus');
  t.is(e.range?.start.line, 2);
  const from = await t.throwsAsync(build('FROM onbuild\n', { images: withTriggers('FROM x') }), { instanceOf: DockerfileError });
  t.regex(from.message, /FROM isn't allowed as an ONBUILD trigger/);
});

import test from 'ava';
import { DockerfileError } from '../../errors/index.ts';
import { parseDockerfile, type Instruction } from '../../syntax/index.ts';
import { build } from '../compile-fixture.ts';
import { parseInstruction } from './parse-instruction.ts';

/** The one instruction of `line`, parsed by src/syntax. */
function instruction(line: string): Instruction {
  const parsed = parseDockerfile(`${line}\n`).ast.instructions[0];
  if (parsed === undefined) throw new Error(`no instruction in ${line}`);
  return parsed;
}

function parse(i: Instruction): ReturnType<typeof parseInstruction> {
  return parseInstruction({ instruction: i, where: { file: 'Dockerfile', range: i.range }, onBuild: false });
}

test('errors in any stage fail the build, needed or not, at the instruction', async (t) => {
  const e = await t.throwsAsync(build('FROM busybox AS unused\nUSER a b c\nWORKDIR\nFROM busybox\n'), { instanceOf: DockerfileError });
  t.is(e.message, 'WORKDIR requires exactly one argument');
  t.is(e.file, 'Dockerfile');
  t.deepEqual(e.range, { start: { line: 3, column: 1 }, end: { line: 3, column: 8 } });
});

test('wrong argument counts are refused with BuildKit\'s messages', (t) => {
  const cases: [string, string][] = [
    ['FROM a b', 'FROM requires either one or three arguments'],
    ['FROM a AS b c', 'FROM requires either one or three arguments'],
    ['USER', 'USER requires exactly one argument'],
    ['STOPSIGNAL', 'STOPSIGNAL requires exactly one argument'],
    ['MAINTAINER', 'MAINTAINER requires exactly one argument'],
    ['EXPOSE', 'EXPOSE requires at least one argument'],
    ['VOLUME', 'VOLUME requires at least one argument'],
    ['ARG', 'ARG requires at least one argument'],
    ['ENV', 'ENV requires at least one argument'],
    ['LABEL', 'LABEL requires at least one argument'],
    ['HEALTHCHECK', 'HEALTHCHECK requires at least one argument'],
    ['SHELL []', 'SHELL requires at least one argument'],
    ['ADD x', 'ADD requires at least two arguments, but only one was provided. Destination could not be determined'],
    ['ARG =x', 'ARG names can not be blank'],
  ];
  for (const [line, message] of cases) t.throws(() => parse(instruction(line)), { instanceOf: DockerfileError, message }, line);
});

test('FROM: AS names are lower-cased and checked', (t) => {
  t.like(parse(instruction('FROM busybox AS Builder')), { kind: 'from', baseName: 'busybox', stageName: 'builder' });
  t.like(parse(instruction('from --platform=$BUILDPLATFORM busybox as b')), { stageName: 'b', platform: '$BUILDPLATFORM' });
  t.throws(() => parse(instruction('FROM busybox AS 1st')), {
    message: 'invalid name for build stage: "1st", name can\'t start with a number or contain symbols',
  });
});

test('flags: unknown, on instructions that take none, duplicated, missing values, bad booleans', (t) => {
  const cases: [string, string][] = [
    ['COPY --chwon=1 a b', 'COPY: unknown flag: --chwon'],
    ['ENV --x=1 A=b', 'ENV: unknown flag: --x'],
    ['WORKDIR --mode=0700 /x', 'WORKDIR: unknown flag: --mode'],
    ['ARG --x A', 'ARG: unknown flag: --x'],
    ['STOPSIGNAL --x TERM', 'STOPSIGNAL: unknown flag: --x'],
    ['COPY --from=a --from=b x y', 'COPY: duplicate flag specified: --from'],
    ['COPY --from x y', 'COPY: missing a value on flag: --from'],
    ['COPY --link= x y', 'COPY: missing a value on flag: --link'],
    ['COPY --link=yes x y', 'COPY: expecting boolean value for flag --link, not: yes'],
    ['RUN --device=gpu x', 'RUN --device is not supported by kiln'],
  ];
  for (const [line, message] of cases) t.throws(() => parse(instruction(line)), { instanceOf: DockerfileError, message }, line);
  const hinted = t.throws(() => parse(instruction('COPY --chwon=1 a b')), { instanceOf: DockerfileError });
  t.is(hinted?.hint, 'did you mean chown?');
  t.is(t.throws(() => parse(instruction('USER --x a')), { instanceOf: DockerfileError })?.hint, 'USER takes no flags');
});

test('repeatable flags collect every value; bool flags accept true and false in any case', (t) => {
  t.like(parse(instruction('COPY --exclude=*.md --exclude=.git --link=FALSE --parents a b')), {
    kind: 'copy', excludes: ['*.md', '.git'], link: false, parents: true,
  });
  t.like(parse(instruction('RUN --mount=type=tmpfs,target=/a --mount=target=/b x')), {
    mounts: ['type=tmpfs,target=/a', 'target=/b'],
    mountFroms: [undefined, undefined],
  });
});

test('an unknown instruction is an error with a suggestion', (t) => {
  const run = instruction('RUN x');
  const e = t.throws(() => parse({ ...run, name: 'RUNN', keyword: 'runn' }), { instanceOf: DockerfileError });
  t.is(e?.message, 'unknown instruction: runn');
  t.is(e?.hint, 'did you mean RUN?');
});

test('the shell and exec forms of CMD and RUN, heredoc files of RUN', (t) => {
  t.like(parse(instruction('CMD ["a", "b"]')), { kind: 'cmd', cmdLine: ['a', 'b'], prependShell: false });
  t.like(parse(instruction('CMD a  b')), { kind: 'cmd', cmdLine: ['a  b'], prependShell: true });
  const run = parseDockerfile('RUN <<EOF\nx\nEOF\n').ast.instructions[0] as Instruction;
  t.like(parse(run), { kind: 'run', cmdLine: ['<<EOF'], files: [{ name: 'EOF', data: 'x\n' }] });
});

test('ENV and LABEL pairs, ARG names with and without defaults', (t) => {
  t.like(parse(instruction('ENV A=1 B="2 3"')), { kind: 'env', pairs: [{ key: 'A', value: '1' }, { key: 'B', value: '"2 3"' }] });
  t.like(parse(instruction('ARG A B=x=y')), { kind: 'arg', args: [{ key: 'A', value: undefined }, { key: 'B', value: 'x=y' }] });
});

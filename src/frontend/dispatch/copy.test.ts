import test from 'ava';
import { DockerfileError } from '../../errors/index.ts';
import { build, fileOf, newHistory, vertexNamed } from '../compile-fixture.ts';
import { pathRelativeToWorkingDir } from './copy.ts';

test('COPY copies from the context into a destination resolved against WORKDIR', async (t) => {
  const r = await build('FROM busybox\nWORKDIR /app\nCOPY package.json yarn.lock ./\nCOPY src lib\nCOPY . .\n');
  t.deepEqual(fileOf(r, 'package.json').actions, [
    { kind: 'copy', from: 1, sources: ['package.json', 'yarn.lock'], dest: '/app/', chown: undefined, chmod: undefined, excludes: [], parents: false, link: false, unpack: false, followSymlinks: true },
  ]);
  t.like(fileOf(r, 'COPY src lib').actions[0], { sources: ['src'], dest: '/app/lib' });
  t.like(fileOf(r, 'COPY . .').actions[0], { sources: ['.'], dest: '/app/' });
  const v = vertexNamed(r, 'COPY src lib');
  t.is(v.inputs[0]?.name, '[3/5] COPY package.json yarn.lock ./');
  t.deepEqual(v.inputs[1]?.op, { kind: 'context', name: 'context' });
});

test('pathRelativeToWorkingDir keeps absolute paths and trailing slashes as BuildKit does', (t) => {
  t.is(pathRelativeToWorkingDir('/app', '/abs/../x/'), '/abs/../x/');
  t.is(pathRelativeToWorkingDir('/app', 'a/../b/'), '/app/b/');
  t.is(pathRelativeToWorkingDir('/app', ''), '/app/');
  t.is(pathRelativeToWorkingDir('/', '.'), '/');
  t.is(pathRelativeToWorkingDir('/app', 'x/.'), '/app/x/.');
  t.is(pathRelativeToWorkingDir('/', './.'), '/.');
});

test('sources, destination, --chown and --chmod are expanded; --from and --exclude are not', async (t) => {
  const r = await build('FROM busybox AS b\nRUN make\nFROM busybox\nARG U=app D=/dst M=755\nCOPY --from=b --chown=$U:$U --chmod=$M --exclude=$X* /$U/ $D/\n');
  t.deepEqual(fileOf(r, 'COPY').actions[0], {
    kind: 'copy', from: 1, sources: ['/app/'], dest: '/dst/', chown: 'app:app', chmod: '755', excludes: ['$X*'], parents: false, link: false, unpack: false, followSymlinks: true,
  });
  t.is(newHistory(r).at(-1)?.created_by, 'COPY --chown=app:app --chmod=755 /app/ /dst/ # buildkit');
  t.is(vertexNamed(r, 'COPY').name, '[stage-1 2/2] COPY --from=b --chown=app:app --chmod=755 --exclude=* /app/ /dst/');
});

test('--link and --parents are carried; a relative source is kept as written, ../ included', async (t) => {
  const r = await build('FROM busybox\nCOPY --link --parents ./a/./b/*.go ../up /dst/\n');
  t.like(fileOf(r, 'COPY').actions[0], { sources: ['./a/./b/*.go', '../up'], link: true, parents: true });
  t.is(newHistory(r)[0]?.created_by, 'COPY --parents ./a/./b/*.go ../up /dst/ # buildkit');
});

test('the JSON form takes paths with spaces', async (t) => {
  const r = await build('FROM busybox\nCOPY ["my file", "/dest dir/"]\n');
  t.like(fileOf(r, 'COPY').actions[0], { sources: ['my file'], dest: '/dest dir/' });
});

test('heredoc sources become files made in place, expanded unless the delimiter is quoted', async (t) => {
  const r = await build('FROM busybox\nENV NAME=kiln\nCOPY --chown=1:2 <<one <<"two" /etc/\nhello $NAME\none\nraw $NAME\ntwo\n');
  t.deepEqual(fileOf(r, 'COPY').actions, [
    { kind: 'mkfile', path: '/etc/one', data: 'hello kiln\n', mode: 0o644, chown: '1:2' },
    { kind: 'mkfile', path: '/etc/two', data: 'raw $NAME\n', mode: 0o644, chown: '1:2' },
  ]);
  t.is(newHistory(r)[1]?.created_by, 'COPY --chown=1:2 <<one <<two /etc/ # buildkit');
});

test('a heredoc to a file path writes that file, with --chmod applied to 0644', async (t) => {
  const r = await build('FROM busybox\nCOPY --chmod=u+x,g+x <<EOF /usr/local/bin/run\n#!/bin/sh\nEOF\nCOPY --chmod=0600 <<EOF /secret\nx\nEOF\n');
  t.like(fileOf(r, '/usr/local/bin/run').actions[0], { kind: 'mkfile', path: '/usr/local/bin/run', mode: 0o754 });
  t.like(fileOf(r, '/secret').actions[0], { mode: 0o600 });
});

test('a heredoc destination is refused', async (t) => {
  await t.throwsAsync(build('FROM busybox\nCOPY a <<EOF\nx\nEOF\n'), { instanceOf: DockerfileError, message: 'COPY cannot accept a heredoc as a destination' });
});

test('bad --chmod values are refused as BuildKit refuses them', async (t) => {
  const octal = await t.throwsAsync(build('FROM busybox\nCOPY --chmod=0999 a /a\n'), { instanceOf: DockerfileError });
  t.is(octal.message, "COPY: invalid chmod parameter: '0999'. it should be octal string and between 0 and 07777");
  await t.throwsAsync(build('FROM busybox\nCOPY --chmod=17777 a /a\n'), { message: /it should be octal string/ });
  await t.throwsAsync(build('FROM busybox\nCOPY --chmod=u+q a /a\n'), { message: "COPY: invalid chmod parameter: 'u+q': invalid syntax" });
});

test('ADD unpacks local archives, downloads URLs with a checksum into a destination', async (t) => {
  const sum = `sha256:${'c'.repeat(64)}`;
  const r = await build(`FROM busybox\nADD app.tar.gz /opt/\nADD --checksum=${sum} --chown=1 https://example.com/dl/tool?x=1 /usr/bin/\nADD --unpack=false x.tgz /x\n`);
  t.like(fileOf(r, 'app.tar.gz').actions[0], { kind: 'copy', unpack: true, dest: '/opt/' });
  t.deepEqual(fileOf(r, 'https').actions, [
    { kind: 'http', url: 'https://example.com/dl/tool?x=1', dest: '/usr/bin/', checksum: sum, chown: '1', chmod: undefined, filename: 'tool' },
  ]);
  t.deepEqual(vertexNamed(r, 'https').inputs.length, 1);
  t.like(fileOf(r, 'x.tgz').actions[0], { unpack: false });
  t.is(newHistory(r)[1]?.created_by, 'ADD --chown=1 https://example.com/dl/tool?x=1 /usr/bin/ # buildkit');
});

test('URLs and Git sources where they are not allowed, and checksum misuse, are errors', async (t) => {
  const cases: [string, string | RegExp][] = [
    ['COPY https://example.com/a /a', "source can't be a URL for COPY"],
    ['COPY https://github.com/moby/buildkit.git /a', "source can't be a git ref for COPY"],
    ['ADD git@github.com:moby/buildkit.git /src', /adding a Git repository is not supported/],
    ['ADD --checksum=sha256:abc a /a', 'checksum requires HTTP(S) or Git sources'],
    ['ADD --checksum=sha256:abc https://x/a https://x/b /d/', "checksum can't be specified for multiple sources"],
    ['ADD --checksum=md5:abc https://x/a /a', /unsupported digest algorithm md5/],
    ['ADD --keep-git-dir https://github.com/a/b.git /src', /ADD --keep-git-dir is not supported/],
    ['COPY --checksum=sha256:abc a /a', 'COPY: unknown flag: --checksum'],
    ['COPY a', 'COPY requires at least two arguments, but only one was provided. Destination could not be determined'],
  ];
  for (const [line, message] of cases) {
    const e = await t.throwsAsync(build(`FROM busybox\n${line}\n`), { instanceOf: DockerfileError }, line);
    if (typeof message === 'string') t.is(e.message, message, line);
    else t.regex(e.message, message, line);
    t.is(e.range?.start.line, 2);
  }
});

test('COPY --from an image or a stage: that vertex is input 1, the context is not an input', async (t) => {
  const r = await build('FROM busybox AS b\nRUN make\nFROM scratch\nCOPY --from=b /out /\n');
  const v = vertexNamed(r, 'COPY --from=b');
  t.deepEqual(v.inputs.map((i) => i.name), ['[internal] scratch', '[b 2/2] RUN make']);
});

test('COPY --from the stage it is built on uses input 0 itself', async (t) => {
  const r = await build('FROM busybox AS b\nFROM b\nCOPY --from=b /bin/sh /sh2\n');
  const v = vertexNamed(r, 'COPY');
  t.is(v.inputs.length, 1);
  t.like(fileOf(r, 'COPY').actions[0], { from: 0 });
});

test('an empty --from copies from the build context', async (t) => {
  const r = await build('FROM busybox\nCOPY --from= a /a\n');
  t.deepEqual(vertexNamed(r, 'COPY').inputs[1]?.op, { kind: 'context', name: 'context' });
});

import test from 'ava';
import { InputError } from '../errors/index.ts';
import {
  familiarName,
  familiarString,
  formatReference,
  parseImageLookup,
  parseReference,
  repositoryName,
  withDefaultTag,
} from './reference.ts';

const HEX = '0123456789abcdef'.repeat(4);
const DIGEST = `sha256:${HEX}`;

// Each row: what a user writes, formatReference of the parse, familiarString of the parse.
const VALID: readonly (readonly [string, string, string])[] = [
  // Docker Hub: familiar names gain the domain and, for official images, `library/`.
  ['busybox', 'docker.io/library/busybox', 'busybox'],
  ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
  ['user/app', 'docker.io/user/app', 'user/app'],
  ['library/nginx:alpine', 'docker.io/library/nginx:alpine', 'nginx:alpine'],
  ['docker.io/busybox', 'docker.io/library/busybox', 'busybox'],
  ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['index.docker.io/nginx', 'docker.io/library/nginx', 'nginx'],
  ['index.docker.io/user/app:v2', 'docker.io/user/app:v2', 'user/app:v2'],
  ['library/team/app', 'docker.io/library/team/app', 'library/team/app'],
  ['user/team/sub/app:1', 'docker.io/user/team/sub/app:1', 'user/team/sub/app:1'],
  // localhost is a host only before a `/`; alone it is an official image's name.
  ['localhost/app', 'localhost/app', 'localhost/app'],
  ['localhost:5000/x', 'localhost:5000/x', 'localhost:5000/x'],
  ['localhost', 'docker.io/library/localhost', 'localhost'],
  ['localhost:5000', 'docker.io/library/localhost:5000', 'localhost:5000'],
  ['example.com:5000', 'docker.io/library/example.com:5000', 'example.com:5000'],
  // Hosts: dotted names, IPv4, ports, bracketed IPv6, any case.
  ['127.0.0.1:5000/a/b:tag', '127.0.0.1:5000/a/b:tag', '127.0.0.1:5000/a/b:tag'],
  ['10.0.0.1/app', '10.0.0.1/app', '10.0.0.1/app'],
  ['[::1]:5000/x', '[::1]:5000/x', '[::1]:5000/x'],
  ['[2001:db8::42]/team/app:1.0', '[2001:db8::42]/team/app:1.0', '[2001:db8::42]/team/app:1.0'],
  ['[FD00:1:2:3:4:5:6:7]:443/app', '[FD00:1:2:3:4:5:6:7]:443/app', '[FD00:1:2:3:4:5:6:7]:443/app'],
  ['my-registry:8080/team/app', 'my-registry:8080/team/app', 'my-registry:8080/team/app'],
  ['Registry.Example.COM/app', 'Registry.Example.COM/app', 'Registry.Example.COM/app'],
  ['MyHost/app', 'MyHost/app', 'MyHost/app'],
  // An uppercase first element is taken for a host, so this is not a lowercase error.
  ['User/app/x:tag', 'User/app/x:tag', 'User/app/x:tag'],
  ['xn--bcher-kva.example/app', 'xn--bcher-kva.example/app', 'xn--bcher-kva.example/app'],
  ['gcr.io/project/sub/app:v1.2.3-rc.1', 'gcr.io/project/sub/app:v1.2.3-rc.1', 'gcr.io/project/sub/app:v1.2.3-rc.1'],
  ['docker.io.mirror.example/library/app', 'docker.io.mirror.example/library/app', 'docker.io.mirror.example/library/app'],
  // Separators inside path components: one `.`, one or two `_`, any number of `-`.
  ['ab/c.d/e_f/g__h/i-j/k---l', 'docker.io/ab/c.d/e_f/g__h/i-j/k---l', 'ab/c.d/e_f/g__h/i-j/k---l'],
  ['my_org/app', 'docker.io/my_org/app', 'my_org/app'],
  ['0/1', 'docker.io/0/1', '0/1'],
  // Tags: word characters, `.` and `-`, uppercase allowed, up to 128 characters.
  ['app:V1_2.3-x', 'docker.io/library/app:V1_2.3-x', 'app:V1_2.3-x'],
  ['app:_private', 'docker.io/library/app:_private', 'app:_private'],
  ['app:5000', 'docker.io/library/app:5000', 'app:5000'],
  [`app:${'t'.repeat(128)}`, `docker.io/library/app:${'t'.repeat(128)}`, `app:${'t'.repeat(128)}`],
  // Digests, alone or after a tag (both are kept).
  [`example.com/a@${DIGEST}`, `example.com/a@${DIGEST}`, `example.com/a@${DIGEST}`],
  [`a:tag@${DIGEST}`, `docker.io/library/a:tag@${DIGEST}`, `a:tag@${DIGEST}`],
  [`[::1]:5000/x:1@${DIGEST}`, `[::1]:5000/x:1@${DIGEST}`, `[::1]:5000/x:1@${DIGEST}`],
  // Hex is refused only as exactly 64 digits and nothing else.
  [HEX.slice(1), `docker.io/library/${HEX.slice(1)}`, HEX.slice(1)],
  [`${HEX}:tag`, `docker.io/library/${HEX}:tag`, `${HEX}:tag`],
  [`user/${HEX}`, `docker.io/user/${HEX}`, `user/${HEX}`],
  ['sha256:abcd', 'docker.io/library/sha256:abcd', 'sha256:abcd'],
  // The path limit counts `library/`, and never the domain.
  ['a'.repeat(247), `docker.io/library/${'a'.repeat(247)}`, 'a'.repeat(247)],
  [`${'h'.repeat(300)}.com/${'a'.repeat(255)}`, `${'h'.repeat(300)}.com/${'a'.repeat(255)}`, `${'h'.repeat(300)}.com/${'a'.repeat(255)}`],
];

// Each row: input, a substring of the error message.
const INVALID: readonly (readonly [string, string])[] = [
  ['', 'the reference is empty'],
  [HEX, 'cannot specify 64-byte hexadecimal strings'],
  // Uppercase in the repository path, wherever the host ends.
  ['Busybox', 'repository name must be lowercase'],
  ['user/App', 'repository name must be lowercase'],
  ['docker.io/User/app', 'repository name must be lowercase'],
  ['example.com/App:tag', 'repository name must be lowercase'],
  ['localhost:5000/Team/app', 'repository name must be lowercase'],
  [`app@SHA256:${HEX}`, 'repository name must be lowercase'],
  // Path components and separators.
  ['-app', 'invalid reference format'],
  ['app-', 'invalid reference format'],
  ['a..b', 'invalid reference format'],
  ['a._b', 'invalid reference format'],
  ['a___b', 'invalid reference format'],
  ['_a', 'invalid reference format'],
  ['____/____', 'invalid reference format'],
  ['a/', 'invalid reference format'],
  ['a//b', 'invalid reference format'],
  ['/a', 'invalid reference format'],
  ['a b', 'invalid reference format'],
  ['app:tag:more', 'invalid reference format'],
  ['https://example.com/app', 'invalid reference format'],
  [':tag', 'invalid reference format'],
  [`@${DIGEST}`, 'invalid reference format'],
  // Hosts.
  ['[::1]', 'invalid reference format'],
  ['[::1]:5000', 'invalid reference format'],
  ['::1:5000/app', 'invalid reference format'],
  ['[fe80::1%eth0]:5000/app', 'invalid reference format'],
  ['[::ffff:192.0.2.1]/app', 'invalid reference format'],
  ['-registry.io/app', 'invalid reference format'],
  ['registry-.io/app', 'invalid reference format'],
  ['registry.io:port/app', 'invalid reference format'],
  ['foo_bar.com/app', '"foo_bar.com" is not a valid registry host'],
  // Tags.
  ['app:', 'invalid reference format'],
  ['app:-x', 'invalid tag "-x"'],
  ['app:.x', 'invalid tag ".x"'],
  ['app:a+b', 'invalid tag "a+b"'],
  [`app:${'t'.repeat(129)}`, 'invalid tag: 129 characters, more than the limit of 128'],
  // Lengths: 248 + `library/` is 256.
  ['a'.repeat(248), 'repository name must not be more than 255 characters (it has 256)'],
  [`example.com/${'a'.repeat(256)}`, 'repository name must not be more than 255 characters'],
  [`${'a/'.repeat(128)}a`, 'repository name must not be more than 255 characters'],
  // Digests.
  ['app@', 'invalid digest ""'],
  ['app@sha256:abc', 'invalid digest "sha256:abc"'],
  [`app@${DIGEST}@x`, 'invalid digest'],
  [`app@sha256:${'a'.repeat(40)}`, 'a sha256 digest has 64 hex digits, this one has 40'],
  [`app@sha512:${'a'.repeat(128)}`, 'unsupported digest algorithm sha512'],
  [`app@sha256:${HEX.toUpperCase()}`, 'uppercase hex digits are not allowed in a sha256 digest'],
  [`app:tag@sha256+b64:${HEX}`, 'unsupported digest algorithm sha256+b64'],
];

test('valid references normalise to their full and familiar strings', (t) => {
  for (const [input, full, familiar] of VALID) {
    const ref = parseReference(input);
    t.is(formatReference(ref), full, `formatReference(${JSON.stringify(input)})`);
    t.is(familiarString(ref), familiar, `familiarString(${JSON.stringify(input)})`);
  }
});

test('the full and familiar strings parse back to the same reference', (t) => {
  for (const [input] of VALID) {
    const ref = parseReference(input);
    t.deepEqual(parseReference(formatReference(ref)), ref, input);
    t.deepEqual(parseReference(familiarString(ref)), ref, input);
  }
});

test('a Docker Hub repository named by 64 hex digits has a familiar string that reads as an ID', (t) => {
  const ref = parseReference(`docker.io/${HEX}`);
  t.is(formatReference(ref), `docker.io/library/${HEX}`);
  t.is(familiarString(ref), HEX);
  t.deepEqual(parseReference(formatReference(ref)), ref);
  t.throws(() => parseReference(familiarString(ref)), { message: /64-byte hexadecimal/ });
});

test('invalid references throw an InputError naming the text and the fault', (t) => {
  for (const [input, message] of INVALID) {
    const error = t.throws(() => parseReference(input), { instanceOf: InputError }, JSON.stringify(input));
    t.true(error?.message.includes(message), `${JSON.stringify(input)}: ${error?.message}`);
    t.true(error?.message.startsWith(`invalid reference ${JSON.stringify(input)}: `), error?.message);
  }
});

test('a reference splits into domain, path, tag and digest', (t) => {
  t.deepEqual(parseReference(`127.0.0.1:5000/a/b:tag@${DIGEST}`), {
    kind: 'reference',
    domain: '127.0.0.1:5000',
    path: 'a/b',
    tag: 'tag',
    digest: DIGEST,
  });
  t.deepEqual(parseReference('busybox'), { kind: 'reference', domain: 'docker.io', path: 'library/busybox' });
});

test('repositoryName and familiarName drop the tag and digest', (t) => {
  const official = parseReference(`busybox:1@${DIGEST}`);
  t.is(repositoryName(official), 'docker.io/library/busybox');
  t.is(familiarName(official), 'busybox');
  const local = parseReference('localhost:5000/team/app:v1');
  t.is(repositoryName(local), 'localhost:5000/team/app');
  t.is(familiarName(local), 'localhost:5000/team/app');
});

test('withDefaultTag adds latest only when there is neither tag nor digest', (t) => {
  t.is(formatReference(withDefaultTag(parseReference('busybox'))), 'docker.io/library/busybox:latest');
  t.is(familiarString(withDefaultTag(parseReference('user/app'))), 'user/app:latest');
  const tagged = parseReference('busybox:1.36');
  t.is(withDefaultTag(tagged), tagged);
  const digested = parseReference(`busybox@${DIGEST}`);
  t.is(withDefaultTag(digested), digested);
});

test('an image argument of 64 hex digits, bare or after sha256:, is only an ID', (t) => {
  t.deepEqual(parseImageLookup(HEX), { kind: 'id', digest: DIGEST });
  t.deepEqual(parseImageLookup(DIGEST), { kind: 'id', digest: DIGEST });
});

test('an image argument of 4 to 63 hex digits is a name first and then an ID prefix', (t) => {
  t.deepEqual(parseImageLookup('abcd'), {
    kind: 'reference-or-id',
    ref: parseReference('abcd'),
    prefix: 'abcd',
  });
  t.deepEqual(parseImageLookup(HEX.slice(0, 63)), {
    kind: 'reference-or-id',
    ref: parseReference(HEX.slice(0, 63)),
    prefix: HEX.slice(0, 63),
  });
  const short = parseImageLookup('sha256:0123ab');
  t.is(short.kind, 'reference-or-id');
  if (short.kind !== 'reference-or-id') return;
  t.is(short.prefix, '0123ab');
  t.is(formatReference(short.ref), 'docker.io/library/sha256:0123ab');
});

test('other image arguments are references', (t) => {
  for (const input of ['abc', 'abcg', 'busybox', `busybox@${DIGEST}`, `${HEX}:tag`, `sha256:${HEX.toUpperCase()}`]) {
    t.deepEqual(parseImageLookup(input), { kind: 'reference', ref: parseReference(input) }, input);
  }
  t.throws(() => parseImageLookup('ABCD'), { instanceOf: InputError, message: /must be lowercase/ });
});

import test from 'ava';
import { EXPANDED_INSTRUCTIONS } from './index.ts';

test('every Dockerfile instruction has an entry', (t) => {
  t.deepEqual(Object.keys(EXPANDED_INSTRUCTIONS).sort(), [
    'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
    'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
  ]);
});

test('FROM is expanded with the global ARGs only', (t) => {
  t.is(EXPANDED_INSTRUCTIONS.FROM.scope, 'global-args');
  t.deepEqual(EXPANDED_INSTRUCTIONS.FROM.expanded.map((p) => p.part), ['image', '--platform']);
});

test('commands run by a shell are not expanded at build time', (t) => {
  for (const name of ['CMD', 'ENTRYPOINT', 'HEALTHCHECK', 'SHELL', 'ONBUILD', 'MAINTAINER'] as const) {
    t.is(EXPANDED_INSTRUCTIONS[name].scope, 'none', name);
    t.deepEqual(EXPANDED_INSTRUCTIONS[name].expanded, [], name);
  }
  t.true(EXPANDED_INSTRUCTIONS.RUN.literal.includes('command'));
});

test('only EXPOSE splits its arguments into words', (t) => {
  const splitting = Object.entries(EXPANDED_INSTRUCTIONS)
    .filter(([, e]) => e.expanded.some((p) => p.how === 'words'))
    .map(([name]) => name);
  t.deepEqual(splitting, ['EXPOSE']);
});

test('COPY and ADD expand unquoted heredoc bodies, and COPY --from is never expanded', (t) => {
  for (const name of ['COPY', 'ADD'] as const) {
    t.true(EXPANDED_INSTRUCTIONS[name].expanded.some((p) => p.how === 'heredoc-body'), name);
  }
  t.true(EXPANDED_INSTRUCTIONS.COPY.literal.includes('--from'));
});

test('an instruction with no scope expands nothing, and one with a scope expands something', (t) => {
  for (const [name, entry] of Object.entries(EXPANDED_INSTRUCTIONS)) {
    t.is(entry.scope === 'none', entry.expanded.length === 0, name);
  }
});

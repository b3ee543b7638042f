import test from 'ava';
import { DockerfileError } from '../errors/index.ts';
import { createShellLexer, EMPTY_ENV, envFromPairs } from './index.ts';

const lexer = createShellLexer();
const env = envFromPairs([
  ['NAME', 'kiln'],
  ['EMPTY', ''],
]);

function failure(word: string): DockerfileError {
  try {
    lexer.processWord(word, env);
  } catch (error) {
    if (error instanceof DockerfileError) return error;
    throw error;
  }
  throw new Error(`${word} expanded without an error`);
}

test('${VAR:?message} fails with the variable name and the message', (t) => {
  const error = failure('${FOO:?must be set}');
  t.regex(error.message, /FOO: must be set/);
  t.is(error.code, 'DOCKERFILE');
});

test('${VAR:?} on an empty variable says the variable is empty', (t) => {
  t.regex(failure('${EMPTY:?}').message, /EMPTY: required variable is empty/);
});

test('${VAR?} on an unset variable says it is not set', (t) => {
  t.regex(failure('x${GONE?}').message, /GONE: required variable is not set/);
});

test('the message of ${VAR?msg} is itself expanded', (t) => {
  t.regex(failure('${GONE?needed by $NAME}').message, /GONE: needed by kiln/);
});

test('an unsupported modifier names the variable and the modifier, with a hint', (t) => {
  const error = failure('${NAME:=default}');
  t.regex(error.message, /\$\{NAME\.\.\.\}: unsupported modifier ":="/);
  t.truthy(error.hint?.includes('${VAR:-word}'));
});

test('a missing closing brace quotes the unclosed ${', (t) => {
  t.regex(failure('a ${NAME:-${X}').message, /"\$\{NAME:-\$\{X\}" is missing its closing '\}'/);
});

test('an invalid pattern names the variable and the bad escape', (t) => {
  t.regex(failure('${NAME%%\\d}').message, /invalid pattern "\\\\d" in \$\{NAME%%\.\.\.\}: \\d is not a valid escape/);
});

test('errors quote the word that failed, shortened when long', (t) => {
  const long = `${'x'.repeat(200)}\${`;
  const error = failure(long);
  t.true(error.message.startsWith(`failed to expand "${'x'.repeat(117)}..."`));
});

test('a word without special characters is returned as it is, with no variables used', (t) => {
  const result = lexer.processWord('/usr/local/bin', env);
  t.deepEqual(result, { word: '/usr/local/bin', matched: new Set(), unmatched: new Set() });
});

test('one lexer expands many words independently', (t) => {
  const first = lexer.processWord('$NAME$GONE', env);
  const second = lexer.processWord('$EMPTY', env);
  t.deepEqual([...first.matched], ['NAME']);
  t.deepEqual([...first.unmatched], ['GONE']);
  t.deepEqual([...second.matched], ['EMPTY']);
  t.deepEqual([...second.unmatched], []);
});

test('an error in one word does not disturb the next', (t) => {
  t.throws(() => lexer.processWord('${NAME', env));
  t.is(lexer.processWord('${NAME}', env).word, 'kiln');
});

test('options default to BuildKit dispatch settings and are reported', (t) => {
  t.deepEqual(createShellLexer().options, {
    escape: '\\',
    rawQuotes: false,
    rawEscapes: false,
    skipUnsetEnv: false,
    skipProcessQuotes: false,
  });
  t.is(createShellLexer({ escape: '`' }).options.escape, '`');
});

test('an escape character other than \\ or ` is refused', (t) => {
  t.throws(() => createShellLexer({ escape: '^' as '\\' }), {
    instanceOf: DockerfileError,
    message: /invalid escape character/,
  });
});

test('processWords splits an expanded list of ports', (t) => {
  const ports = envFromPairs([['PORTS', '80/tcp  443/udp']]);
  t.deepEqual(lexer.processWords('$PORTS 8080', ports), ['80/tcp', '443/udp', '8080']);
});

test('processWords fails like processWord', (t) => {
  t.throws(() => lexer.processWords('a ${B', EMPTY_ENV), { instanceOf: DockerfileError, message: /missing its closing/ });
});

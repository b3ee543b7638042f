import test from 'ava';
import { UsageError } from '../../errors/index.ts';
import { parseProgressMode, progressModeFromEnv } from './progress-mode.ts';

test('KILN_PROGRESS wins over BUILDKIT_PROGRESS, which wins over auto', (t) => {
  t.is(progressModeFromEnv({}), 'auto');
  t.is(progressModeFromEnv({ BUILDKIT_PROGRESS: 'plain' }), 'plain');
  t.is(progressModeFromEnv({ BUILDKIT_PROGRESS: 'plain', KILN_PROGRESS: 'rawjson' }), 'rawjson');
  t.is(progressModeFromEnv({ KILN_PROGRESS: '', BUILDKIT_PROGRESS: 'quiet' }), 'quiet');
  t.is(progressModeFromEnv({ KILN_PROGRESS: ' TTY ' }), 'tty');
});

test('an invalid progress variable is a UsageError naming the variable', (t) => {
  const kiln = t.throws(() => progressModeFromEnv({ KILN_PROGRESS: 'fancy', BUILDKIT_PROGRESS: 'plain' }), { instanceOf: UsageError });
  t.is(kiln?.message, 'KILN_PROGRESS: "fancy" is not a progress mode');
  t.is(kiln?.hint, 'use one of auto, tty, plain, rawjson, quiet');
  const buildkit = t.throws(() => progressModeFromEnv({ BUILDKIT_PROGRESS: 'json' }), { instanceOf: UsageError });
  t.regex(buildkit?.message ?? '', /^BUILDKIT_PROGRESS: "json"/);
  t.throws(() => parseProgressMode('colour', '--progress'), { instanceOf: UsageError, message: /^--progress: / });
});

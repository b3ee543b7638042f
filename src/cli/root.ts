import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * kiln's state directory: `--root`, else $KILN_ROOT, else /var/lib/kiln for root, else
 * $XDG_DATA_HOME/kiln (~/.local/share/kiln).
 */
export function resolveRoot(flag: string | undefined): string {
  if (flag !== undefined && flag !== '') return flag;
  const env = process.env['KILN_ROOT'];
  if (env !== undefined && env !== '') return env;
  if (process.getuid?.() === 0) return '/var/lib/kiln';
  const data = process.env['XDG_DATA_HOME'] || join(homedir(), '.local', 'share');
  return join(data, 'kiln');
}

// Builds the addon (native/binding.gyp → native/build/Release/kiln_native.node) with the
// node-gyp npm ships; package.json's "install" script runs it, so `npm install` builds it.
//
// node-gyp fetches Node's headers from nodejs.org unless told where they are. Node installs
// them beside itself (<prefix>/include/node: Debian's nodejs, the official tarballs, nvm), so
// this script points node-gyp at that prefix when npm's `nodedir` setting does not, and the
// build needs only a C++ compiler, make and python3.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const native = fileURLToPath(new URL('../native', import.meta.url));
const args = ['rebuild', '--directory', native];

if (process.env.npm_config_nodedir === undefined) {
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
}

// npm tells its scripts where its node-gyp is; outside npm, one on PATH is used.
const nodeGyp = process.env.npm_config_node_gyp;
const [command, commandArgs] =
  nodeGyp === undefined ? ['node-gyp', args] : nodeGyp.endsWith('.js') ? [process.execPath, [nodeGyp, ...args]] : [nodeGyp, args];

const result = spawnSync(command, commandArgs, { stdio: 'inherit' });
if (result.error !== undefined) {
  console.error(`kiln: cannot run ${command}: ${result.error.message}`);
  console.error('kiln: the native addon is built with node-gyp, which npm ships; run `npm install` or `npm run build:native`');
  process.exit(1);
}
process.exit(result.status ?? 1);

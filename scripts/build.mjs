// Bundles the CLI into dist/ with esbuild, for a fast start:
//
//   dist/kiln.cjs          every module of the CLI in one CommonJS file (one read, no ES module
//                          loader: Node 20 resolves, links and builds a facade for every builtin
//                          an ES module graph imports, ~15 ms of a command's start)
//   dist/kiln.cjs.v8cache  V8's code cache of kiln.cjs, made here with every function compiled
//                          (compiling 0.9 MB of JavaScript took ~25 ms of each command's start;
//                          reading the cache takes ~7)
//   dist/cli.cjs           the command (package.json "bin"): compiles kiln.cjs with the cache
//                          and runs it; see scripts/cli-launcher.cjs
//
// The modules each command imports lazily (src/cli/main.ts) still run their top-level code only
// when that command runs. bench/parse measures the start-up.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmod, copyFile, readFile, rm } from 'node:fs/promises';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const dist = new URL('../dist/', import.meta.url);

await rm(dist, { recursive: true, force: true });
await build({
  entryPoints: { kiln: 'src/cli/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // Whitespace and local names too (a third of the bytes to read and hash at each start);
  // keepNames keeps what classes and functions say their names are (errors name themselves).
  minify: true,
  keepNames: true,
  sourcemap: 'linked',
  legalComments: 'none',
  // The sources are ES modules that find the native addon from import.meta.url.
  define: { KILN_VERSION: JSON.stringify(pkg.version), 'import.meta.url': 'kilnImportMetaUrl' },
  banner: { js: "const kilnImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
const launcher = new URL('cli.cjs', dist);
await copyFile(new URL('./cli-launcher.cjs', import.meta.url), launcher);
await chmod(launcher, 0o755);
// The code cache, made by the launcher itself (which compiles every function for it).
execFileSync(process.execPath, [launcher.pathname], { env: { ...process.env, KILN_WRITE_CODE_CACHE: '1' }, stdio: 'inherit' });

// Bundles the CLI into dist/ with esbuild: one entry file plus lazily imported chunks, so
// that a command loads only the modules it runs (bench/parse measures start-up).
import { build } from 'esbuild';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

await rm(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifySyntax: true,
  sourcemap: 'linked',
  legalComments: 'none',
  // commander is CommonJS: its require() calls of node builtins need a real require.
  banner: {
    js: "import { createRequire as kilnCreateRequire } from 'node:module'; const require = kilnCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
  define: { KILN_VERSION: JSON.stringify(pkg.version) },
});
// The shebang goes on the entry alone (a banner would put it on every chunk).
const entry = new URL('../dist/cli.js', import.meta.url);
await writeFile(entry, `#!/usr/bin/env node\n${await readFile(entry, 'utf8')}`);
await chmod(entry, 0o755);

#!/usr/bin/env node
'use strict';
// kiln's command (copied to dist/cli.cjs by scripts/build.mjs): runs the bundle dist/kiln.cjs
// as Node's CommonJS loader would, but compiled with V8's code cache beside it, so that a
// command does not spend its first ~25 ms compiling JavaScript.
//
// The cache is made at build time, with every function compiled (KILN_WRITE_CODE_CACHE=1 under
// --no-lazy). V8 rejects a cache made by another V8 or for other source; then this run compiles
// as usual and, at its exit, writes a cache of what it compiled, when it can (a read-only
// installation keeps compiling).
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { join } = require('node:path');
const { Script } = require('node:vm');

const bundle = join(__dirname, 'kiln.cjs');
const cacheFile = join(__dirname, 'kiln.cjs.v8cache');

function writeCache(script) {
  const temporary = `${cacheFile}.${process.pid}.tmp`;
  writeFileSync(temporary, script.createCachedData(), { mode: 0o644 });
  renameSync(temporary, cacheFile);
}

let cachedData;
try {
  cachedData = process.env.KILN_WRITE_CODE_CACHE === '1' ? undefined : readFileSync(cacheFile);
} catch {
  // No cache: compile.
}
const script = new Script(Module.wrap(readFileSync(bundle, 'utf8')), { filename: bundle, cachedData });
if (process.env.KILN_WRITE_CODE_CACHE === '1') {
  writeCache(script);
} else {
  const bundleModule = new Module(bundle, module);
  bundleModule.filename = bundle;
  bundleModule.paths = Module._nodeModulePaths(__dirname);
  script.runInThisContext()(bundleModule.exports, Module.createRequire(bundle), bundleModule, bundle, __dirname);
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', () => {
      try {
        writeCache(script);
      } catch {
        // Not writable: the next run compiles again.
      }
    });
  }
}

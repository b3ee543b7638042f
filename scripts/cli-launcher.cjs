#!/usr/bin/env node
'use strict';
// kiln's command (copied to dist/cli.cjs by scripts/build.mjs): runs the bundle dist/kiln.cjs
// as Node's CommonJS loader would, but compiled with V8's code cache beside it, so that a
// command does not spend its first ~25 ms compiling JavaScript.
//
// The cache is made at build time, with every function compiled (KILN_WRITE_CODE_CACHE=1). V8 rejects a cache made by another V8 or for other source; then this run compiles
// as usual and, at its exit, writes a cache of what it compiled, when it can (a read-only
// installation keeps compiling).
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { join } = require('node:path');
const { setFlagsFromString } = require('node:v8');
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
const source = Module.wrap(readFileSync(bundle, 'utf8'));
if (process.env.KILN_WRITE_CODE_CACHE === '1') {
  // Every function compiled now, not when first called: the cache then spares a command all
  // its compiling. V8 stamps a cache with its flags and rejects one made under others, so
  // --no-lazy is set only while compiling, and unset before the cache is made.
  setFlagsFromString('--no-lazy');
  const script = new Script(source, { filename: bundle });
  setFlagsFromString('--lazy');
  writeCache(script);
} else {
  const script = new Script(source, { filename: bundle, cachedData });
  const bundleModule = new Module(bundle, module);
  bundleModule.filename = bundle;
  bundleModule.paths = Module._nodeModulePaths(__dirname);
  script.runInThisContext()(bundleModule.exports, Module.createRequire(bundle), bundleModule, bundle, __dirname);
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', () => {
      // A command that changed V8's flags as it ran (build: --optimize-for-size) would write a
      // cache stamped with them, which the next start, with the defaults, rejects in turn.
      if (globalThis[Symbol.for('kiln.v8FlagsChanged')] === true) return;
      try {
        writeCache(script);
      } catch {
        // Not writable: the next run compiles again.
      }
    });
  }
}

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Copy,
  DockerfileParser,
  JSONInstruction,
  ModifiableInstruction,
  Onbuild,
  PropertyInstruction,
  Run,
  type Dockerfile,
  type Instruction,
} from 'dockerfile-ast';
import { parseDockerfile } from '../src/syntax/index.ts';
import { median, timeAlternating, timeRuns } from './sample.ts';
import { syntheticDockerfile } from './synthetic-dockerfile.ts';
import type { Measurement, Workload, WorkloadOptions } from './workload.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INSTRUCTIONS = 10_000;
const SEED = 20_251_123;
const THROUGHPUT_TARGET = 2;
const STARTUP_BUDGET_MS = 40;

/** A small, valid Dockerfile of the kind a project keeps: the start-up input. */
const SMALL_DOCKERFILE = `# syntax=docker/dockerfile:1
FROM node:20-alpine AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY . .
RUN npm run build && \\
    npm prune --omit=dev

FROM node:20-alpine
ENV NODE_ENV=production PORT=8080
WORKDIR /app
COPY --from=build /app/dist ./dist
COPY --from=build /app/node_modules ./node_modules
EXPOSE 8080
USER node
CMD ["node", "dist/server.js"]
`;

/**
 * Parsing: throughput on a generated 10,000-instruction Dockerfile against dockerfile-ast,
 * and the start-up of `kiln parse` on a small file against `node -e 0`.
 */
export const workload: Workload = {
  name: 'parse',
  description: 'Dockerfile parsing: throughput against dockerfile-ast, CLI start-up against bare node',
  async measure(options: WorkloadOptions): Promise<readonly Measurement[]> {
    return [throughput(options), ...startUp(options)];
  },
};

function throughput({ runs = 15, log }: WorkloadOptions): Measurement {
  const text = syntheticDockerfile(INSTRUCTIONS, SEED);
  const megabytes = Buffer.byteLength(text, 'utf8') / 1e6;
  log(`parse: throughput on ${INSTRUCTIONS} instructions (${megabytes.toFixed(2)} MB), ${runs} runs each`);
  let sink = 0;
  const plan = { warmup: 3, runs };
  const times = {
    kiln: timeRuns(() => {
      sink += parseDockerfile(text, { file: 'bench/Dockerfile' }).ast.instructions.length;
    }, plan),
    reference: timeRuns(() => {
      sink += touchAll(DockerfileParser.parse(text));
    }, plan),
  };
  // Keeps the results observable, so that no engine could drop the work as dead code.
  if (sink < 0) log(String(sink));
  // Both must have seen the whole input, or the faster one may only have given up sooner.
  const parsed = parseDockerfile(text, { file: 'bench/Dockerfile' });
  const referenceCount = DockerfileParser.parse(text).getInstructions().length;
  const kiln = megabytes / (median(times.kiln) / 1000);
  const reference = megabytes / (median(times.reference) / 1000);
  const ratio = kiln / reference;
  return {
    name: 'throughput',
    unit: 'MB/s',
    better: 'higher',
    runs,
    kiln,
    reference: { name: 'dockerfile-ast', median: reference },
    ratio,
    target: { statement: `kiln ≥ ${THROUGHPUT_TARGET}× dockerfile-ast`, met: ratio >= THROUGHPUT_TARGET },
    notes: [
      `input: ${INSTRUCTIONS} instructions, ${megabytes.toFixed(2)} MB, seed ${SEED}; found: kiln ` +
        `${parsed.ast.instructions.length} (${parsed.diagnostics.length} diagnostics), dockerfile-ast ${referenceCount}`,
      `median parse time: kiln ${median(times.kiln).toFixed(1)} ms, dockerfile-ast ${median(times.reference).toFixed(1)} ms`,
    ],
  };
}

/*
 * dockerfile-ast's parse only finds lines and instruction ranges; it splits arguments lazily,
 * when asked. kiln's parse hands back every instruction split as BuildKit splits it: name,
 * builder flags, arguments (exec-form elements, ENV/LABEL pairs), heredoc bodies, ONBUILD
 * triggers and comments. Comparable work therefore asks dockerfile-ast for the same: the
 * keyword, the flags of instructions that take them, the JSON strings of exec-form ones, the
 * properties of ENV/LABEL/ARG, the arguments of the rest, the heredocs of RUN and COPY (the
 * classes that offer them) by name and body range, the trigger of an ONBUILD, the comments
 * and directives, and each value read once. Ranges and variable lookups, which kiln does not
 * compute, are not asked for.
 */
function touchAll(dockerfile: Dockerfile): number {
  let n = 0;
  for (const directive of dockerfile.getDirectives()) n += directive.getName().length + directive.getValue().length;
  for (const comment of dockerfile.getComments()) n += comment.getContent().length;
  for (const instruction of dockerfile.getInstructions()) n += touch(instruction);
  return n;
}

function touch(instruction: Instruction): number {
  let n = instruction.getKeyword().length;
  if (instruction instanceof Onbuild) {
    const trigger = instruction.getTriggerInstruction();
    return n + (trigger === null ? 0 : touch(trigger));
  }
  if (instruction instanceof ModifiableInstruction) {
    for (const flag of instruction.getFlags()) n += flag.getName().length + (flag.getValue()?.length ?? 0);
  }
  if (instruction instanceof PropertyInstruction) {
    for (const property of instruction.getProperties()) n += property.getName().length + (property.getValue()?.length ?? 0);
    return n;
  }
  if (instruction instanceof JSONInstruction) {
    const strings = instruction.getJSONStrings();
    for (const s of strings) n += s.getValue().length;
    if (instruction instanceof Run || instruction instanceof Copy) {
      // A heredoc gives its body as a range only; finding that range is the parsing work.
      for (const heredoc of instruction.getHeredocs()) n += heredoc.getName().length + (heredoc.getContentRange()?.end.line ?? 0);
    }
    if (strings.length > 0) return n;
  }
  for (const argument of instruction.getArguments()) n += argument.getValue().length;
  return n;
}

/**
 * Whole-process start-up: `node dist/cli.cjs parse SMALL` against `node -e 0` (the floor any
 * Node CLI stands on), and `node dist/cli.cjs --version` for reference, spawned in turn so
 * that the three share the machine's state. The bundle is rebuilt first, so the figure is
 * the current source's.
 */
function startUp({ runs = 20, log }: WorkloadOptions): Measurement[] {
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`cannot build dist/cli.cjs: ${build.stderr || build.stdout}`);
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
  try {
    const file = join(dir, 'Dockerfile');
    writeFileSync(file, SMALL_DOCKERFILE);
    const cli = join(ROOT, 'dist/cli.cjs');
    const commands = {
      parse: [cli, 'parse', file],
      version: [cli, '--version'],
      node: ['-e', '0'],
    };
    for (const [name, args] of Object.entries(commands)) {
      const probe = spawnSync(process.execPath, args, { encoding: 'utf8' });
      if (probe.status !== 0) throw new Error(`${name}: node ${args.join(' ')} exited ${probe.status}: ${probe.stderr}`);
    }
    log(`parse: start-up, ${runs} spawns each`);
    const spawn = (args: string[]) => () => spawnSync(process.execPath, args, { stdio: 'ignore' });
    const times = timeAlternating(
      { parse: spawn(commands.parse), version: spawn(commands.version), node: spawn(commands.node) },
      { warmup: 3, runs },
    );
    const node = median(times.node);
    const parse = median(times.parse);
    const version = median(times.version);
    const reference = { name: 'node -e 0', median: node };
    return [
      {
        name: 'start-up: kiln parse (15 lines)',
        unit: 'ms',
        better: 'lower',
        runs,
        kiln: parse,
        reference,
        ratio: parse / node,
        target: { statement: `kiln ≤ node + ${STARTUP_BUDGET_MS} ms`, met: parse - node <= STARTUP_BUDGET_MS },
        notes: [`difference: +${(parse - node).toFixed(1)} ms over bare node`],
      },
      {
        name: 'start-up: kiln --version',
        unit: 'ms',
        better: 'lower',
        runs,
        kiln: version,
        reference,
        ratio: version / node,
        target: undefined,
        notes: [`difference: +${(version - node).toFixed(1)} ms over bare node`],
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/*
 * The benchmark harness behind `npm run bench`: imports every module in bench/ that exports
 * a `workload` (see workload.ts), runs each, and prints for every measurement kiln's median,
 * the reference measured in the same run, their ratio, and whether the stated target is met,
 * then a table of every measurement (workload, kiln's median, the reference's, the ratio).
 *
 *   npm run bench [-- --json] [--runs N] [--only NAME]
 *
 * --json prints one JSON document on stdout and writes bench/results/<name>.json per
 * workload (git-ignored, for tracking); progress always goes to stderr.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Measurement, Workload } from './workload.ts';

const BENCH = new URL('./', import.meta.url);

interface Result {
  readonly workload: string;
  readonly description: string;
  readonly node: string;
  readonly date: string;
  /** Wall-clock figures mean little on a busy machine: how busy it was as the workload began. */
  readonly machine: { readonly cpus: number; readonly loadAverage: number };
  readonly measurements: readonly Measurement[];
}

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    runs: { type: 'string' },
    only: { type: 'string', multiple: true },
  },
});
const runs = values.runs === undefined ? undefined : Number(values.runs);
if (runs !== undefined && !(Number.isInteger(runs) && runs > 0)) {
  process.stderr.write(`bench: --runs takes a positive integer, not ${values.runs}\n`);
  process.exit(2);
}

const workloads = await findWorkloads();
const only = values.only ?? [];
const unknown = only.filter((name) => !workloads.some((w) => w.name === name));
if (unknown.length > 0) {
  process.stderr.write(`bench: no workload ${unknown.join(', ')}; there are ${workloads.map((w) => w.name).join(', ')}\n`);
  process.exit(2);
}

const results: Result[] = [];
let failed = false;
for (const workload of workloads) {
  if (only.length > 0 && !only.includes(workload.name)) continue;
  try {
    const machine = { cpus: availableParallelism(), loadAverage: loadavg()[0] ?? 0 };
    const measurements = await workload.measure({ runs, log: (line) => process.stderr.write(`${line}\n`) });
    const result: Result = {
      workload: workload.name,
      description: workload.description,
      node: process.version,
      date: new Date().toISOString(),
      machine,
      measurements,
    };
    results.push(result);
    if (values.json) {
      await mkdir(new URL('results/', BENCH), { recursive: true });
      await writeFile(new URL(`results/${workload.name}.json`, BENCH), `${JSON.stringify(result, null, 2)}\n`);
    } else {
      process.stdout.write(render(result));
    }
  } catch (error) {
    // A workload that cannot measure is reported, and the others still run.
    failed = true;
    process.stderr.write(`bench: ${workload.name} could not be measured: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}
if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
else if (results.length > 0) process.stdout.write(table(results));
if (failed) process.exitCode = 1;

/** Every bench/*.ts module exporting a `workload`, by name. */
async function findWorkloads(): Promise<Workload[]> {
  const found: Workload[] = [];
  const files = (await readdir(BENCH)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'run.ts');
  for (const file of files.sort()) {
    const module = (await import(new URL(file, BENCH).href)) as { workload?: Workload };
    if (module.workload !== undefined) found.push(module.workload);
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

function render(result: Result): string {
  const { cpus, loadAverage } = result.machine;
  const lines = [
    `${result.workload}: ${result.description}`,
    `  node ${result.node}, ${cpus} CPUs, load average ${loadAverage.toFixed(2)}${loadAverage > cpus / 2 ? ' (busy: timings are inflated)' : ''}`,
  ];
  for (const m of result.measurements) {
    const verdict = m.target === undefined ? 'no target' : `target ${m.target.statement}: ${m.target.met ? 'MET' : 'MISSED'}`;
    lines.push(
      `  ${m.name}`,
      `    kiln ${format(m.kiln)} ${m.unit}   ${m.reference.name} ${format(m.reference.median)} ${m.unit}   ` +
        `ratio ${m.ratio.toFixed(2)} (${m.better} is better)   median of ${m.runs}`,
      `    ${verdict}`,
      ...m.notes.map((note) => `    ${note}`),
    );
  }
  return `${lines.join('\n')}\n\n`;
}

/** Every measurement on one line: workload, kiln's median, the reference's, the ratio. */
function table(all: readonly Result[]): string {
  const rows = all.flatMap((r) =>
    r.measurements.map((m) => [`${r.workload}: ${m.name}`, `${format(m.kiln)} ${m.unit}`, `${format(m.reference.median)} ${m.unit}`, `${m.ratio.toFixed(2)}x`]),
  );
  const header = ['workload', 'kiln median', 'bound or peer', 'ratio'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

function format(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

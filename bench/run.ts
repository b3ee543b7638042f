/*
 * The benchmark harness behind `npm run bench`: imports every module in bench/ that exports
 * a `workload` (see workload.ts), runs each, and prints for every measurement kiln's median,
 * the bound measured in the same run, the best peer measured in the same run (with --peers),
 * the ratios, and whether the stated target is met; then a table of every measurement; then
 * writes an SVG chart of the ratios against the targets.
 *
 *   npm run bench [-- --peers] [--json] [--json-out FILE] [--runs N] [--only NAME]
 *
 * --peers also measures the peer tools (BuildKit, Buildah) where a workload has them; a peer
 * that is not installed is skipped with a message. --json prints one JSON document on stdout
 * and writes bench/results/<name>.json per workload (git-ignored, for tracking); --json-out
 * writes the same document to FILE. The chart goes next to that file (FILE with .svg for
 * .json), else to bench-results.svg in the working directory. Progress always goes to stderr.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderRatioChart, type ChartRow } from './svg-chart.ts';
import type { Measurement, PeerFigure, Workload } from './workload.ts';

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
    'json-out': { type: 'string' },
    peers: { type: 'boolean', default: false },
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
const started = performance.now();
for (const workload of workloads) {
  if (only.length > 0 && !only.includes(workload.name)) continue;
  try {
    const machine = { cpus: availableParallelism(), loadAverage: loadavg()[0] ?? 0 };
    const measurements = await workload.measure({ runs, peers: values.peers, log: (line) => process.stderr.write(`${line}\n`) });
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
const document = `${JSON.stringify(results, null, 2)}\n`;
if (values.json) process.stdout.write(document);
// Under --json the table still reaches people, on stderr.
if (results.length > 0) (values.json ? process.stderr : process.stdout).write(table(results));
const jsonOut = values['json-out'] === undefined ? undefined : resolve(values['json-out']);
if (jsonOut !== undefined) {
  await mkdir(dirname(jsonOut), { recursive: true });
  await writeFile(jsonOut, document);
}
const rows = chartRows(results);
if (rows.length > 0) {
  const svg = jsonOut === undefined ? resolve('bench-results.svg') : jsonOut.replace(/(\.json)?$/, '.svg');
  const first = results[0];
  const subtitle = `node ${process.version}, ${first?.machine.cpus ?? '?'} CPUs, ${first?.date ?? ''}${values.peers ? ', with peers' : ', without peers'}, runs: ${runs ?? 'each workload\'s default'}`;
  await writeFile(svg, renderRatioChart({ title: 'kiln against its targets: ratio to the reference of each target', subtitle, rows }));
  process.stderr.write(`bench: chart written to ${svg}\n`);
}
process.stderr.write(`bench: took ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
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
    lines.push(
      `  ${m.name}`,
      `    kiln ${format(m.kiln)} ${m.unit}   ${m.reference.name} ${format(m.reference.median)} ${m.unit}   ` +
        `ratio ${m.ratio.toFixed(2)} (${m.better} is better)   median of ${m.runs}`,
      ...(m.peers ?? []).map(
        (p) => `    ${p.name} ${format(p.median)} ${m.unit}   kiln ÷ ${p.name} ${(m.kiln / p.median).toFixed(2)}${p.comparable ? '' : `   (not compared: ${p.note ?? 'not the same work'})`}`,
      ),
      `    ${m.target === undefined ? 'no target' : `target ${m.target.statement}: ${verdict(m.target.met)}`}`,
      ...m.notes.map((note) => `    ${note}`),
    );
  }
  return `${lines.join('\n')}\n\n`;
}

function verdict(met: boolean | undefined): string {
  return met === undefined ? 'NOT MEASURED' : met ? 'MET' : 'MISSED';
}

/** The peer kiln is compared with: the best of those that did the same work. */
function bestPeer(m: Measurement): PeerFigure | undefined {
  const comparable = (m.peers ?? []).filter((p) => p.comparable && Number.isFinite(p.median));
  const better = (a: PeerFigure, b: PeerFigure): PeerFigure => ((m.better === 'lower' ? a.median <= b.median : a.median >= b.median) ? a : b);
  return comparable.length === 0 ? undefined : comparable.reduce(better);
}

/** Every measurement on one line: kiln's median, the bound, the best peer, both ratios, the target and its verdict. */
function table(all: readonly Result[]): string {
  const rows = all.flatMap((r) =>
    r.measurements.map((m) => {
      const peer = bestPeer(m);
      return [
        `${r.workload}: ${m.name}`,
        `${format(m.kiln)} ${m.unit}`,
        `${format(m.reference.median)} ${m.unit}`,
        peer === undefined ? '-' : `${peer.name} ${format(peer.median)} ${m.unit}`,
        peer === undefined ? '-' : `${(m.kiln / peer.median).toFixed(2)}x`,
        `${m.ratio.toFixed(2)}x`,
        m.target?.statement ?? '-',
        m.target === undefined ? '-' : verdict(m.target.met),
      ];
    }),
  );
  const header = ['workload', 'kiln median', 'bound', 'best peer', 'kiln/peer', 'kiln/bound', 'target', 'met'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const left = new Set([0, 6, 7]);
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => (left.has(i) ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

/** One chart row per target clause that states its ratio and limit. */
function chartRows(all: readonly Result[]): ChartRow[] {
  return all.flatMap((r) =>
    r.measurements.flatMap((m) =>
      (m.target?.checks ?? []).map((c) => ({
        label: m.name,
        clause: c.statement,
        ratio: c.ratio,
        limit: c.limit,
      })),
    ),
  );
}

function format(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

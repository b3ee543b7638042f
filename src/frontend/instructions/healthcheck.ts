import type { HealthConfig } from '../../image/index.ts';
import { parseGoDuration } from '../go-duration.ts';
import { fail } from '../located.ts';
import type { HealthcheckCommand } from './command.ts';
import { commandBase, commandLine, instructionFlags, type InstructionInput } from './instruction-input.ts';

const MILLISECOND = 1_000_000;

/**
 * `HEALTHCHECK NONE`, or `HEALTHCHECK [--interval=…] [--timeout=…] [--start-period=…]
 * [--start-interval=…] [--retries=N] CMD command`: durations in Go syntax, stored in
 * nanoseconds (each 0, or at least 1ms); a shell-form command becomes `CMD-SHELL`.
 */
export function parseHealthcheck(input: InstructionInput): HealthcheckCommand {
  const { args } = input.instruction;
  if (args.length === 0) fail(input.where, 'HEALTHCHECK requires at least one argument');
  const type = (args[0] ?? '').toUpperCase();
  const rest = args.slice(1);
  if (type === 'NONE') {
    instructionFlags(input, {});
    if (rest.length !== 0) fail(input.where, 'HEALTHCHECK NONE takes no arguments');
    return { kind: 'healthcheck', ...commandBase(input), health: { Test: ['NONE'] } };
  }
  const flags = instructionFlags(input, {
    interval: 'string',
    timeout: 'string',
    'start-period': 'string',
    'start-interval': 'string',
    retries: 'string',
  });
  if (type !== 'CMD') fail(input.where, `Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  const command = commandLine(input, rest);
  if (command.length === 0) fail(input.where, 'Missing command after HEALTHCHECK CMD');
  const duration = (name: string): number => {
    const text = flags.string(name);
    if (text === undefined || text === '') return 0;
    let d: number;
    try {
      d = parseGoDuration(text);
    } catch (error) {
      return fail(input.where, `HEALTHCHECK --${name}: ${(error as Error).message}`, undefined, error);
    }
    if (d !== 0 && d < MILLISECOND) fail(input.where, `Interval ${JSON.stringify(name)} cannot be less than 1ms`);
    return d;
  };
  let retries = 0;
  const retriesText = flags.string('retries');
  if (retriesText !== undefined && retriesText !== '') {
    if (!/^[+-]?\d+$/.test(retriesText) || Math.abs(Number(retriesText)) > 2 ** 31 - 1) {
      fail(input.where, `HEALTHCHECK --retries: strconv.ParseInt: parsing ${JSON.stringify(retriesText)}: invalid syntax`);
    }
    retries = Number(retriesText);
    if (retries < 0) fail(input.where, `--retries cannot be negative (${retries})`);
  }
  const health: HealthConfig = {
    Test: [input.instruction.json ? 'CMD' : 'CMD-SHELL', ...command],
    ...nonZero('Interval', duration('interval')),
    ...nonZero('Timeout', duration('timeout')),
    ...nonZero('StartPeriod', duration('start-period')),
    ...nonZero('StartInterval', duration('start-interval')),
    ...nonZero('Retries', retries),
  };
  return { kind: 'healthcheck', ...commandBase(input), health };
}

/** Docker's config omits zero durations and retries (`json:",omitempty"`). */
function nonZero<K extends string>(key: K, value: number): Partial<Record<K, number>> {
  return value === 0 ? {} : ({ [key]: value } as Record<K, number>);
}

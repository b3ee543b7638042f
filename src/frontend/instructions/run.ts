import { fail } from '../located.ts';
import { mountFrom } from '../run-mounts.ts';
import type { RunCommand } from './command.ts';
import { commandBase, commandLine, instructionFlags, type InstructionInput } from './instruction-input.ts';

/**
 * `RUN [--mount=…]… [--network=…] [--security=…] command`: flags checked, `--mount` values
 * kept for dispatch (only their `from=` is read now), heredocs attached as inline files.
 */
export function parseRun(input: InstructionInput): RunCommand {
  const flags = instructionFlags(input, { mount: 'strings', network: 'string', security: 'string', device: 'strings' });
  const network = flags.string('network') ?? 'default';
  if (network !== 'default' && network !== 'none' && network !== 'host') {
    fail(input.where, `RUN: invalid network mode ${JSON.stringify(network)}`, 'use --network=default, none or host');
  }
  const security = flags.string('security') ?? 'sandbox';
  if (security !== 'sandbox' && security !== 'insecure') {
    fail(input.where, `RUN: security ${JSON.stringify(security)} is not valid`, 'use --security=sandbox or insecure');
  }
  if (flags.has('device')) {
    // TODO(#6): CDI devices (--device) once the sandbox can pass them through.
    fail(input.where, 'RUN --device is not supported by kiln', 'remove --device');
  }
  const mounts = flags.strings('mount');
  const mountFroms = mounts.map((value) => {
    try {
      return mountFrom(value);
    } catch (error) {
      return fail(input.where, `RUN --mount=${value}: ${(error as Error).message}`, undefined, error);
    }
  });
  const cmdLine = commandLine(input);
  if (input.instruction.json && cmdLine.length === 0) fail(input.where, 'RUN requires at least one argument');
  return {
    kind: 'run',
    ...commandBase(input),
    cmdLine,
    prependShell: !input.instruction.json,
    files: input.instruction.heredocs.map((h) => ({ name: h.name, data: h.content })),
    mounts,
    mountFroms,
    network,
    security,
  };
}

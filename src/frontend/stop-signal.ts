/** Linux signal names (without SIG) moby's signal package accepts for STOPSIGNAL. */
const SIGNALS = new Set([
  'ABRT', 'ALRM', 'BUS', 'CHLD', 'CLD', 'CONT', 'FPE', 'HUP', 'ILL', 'INT', 'IO', 'IOT', 'KILL',
  'PIPE', 'POLL', 'PROF', 'PWR', 'QUIT', 'SEGV', 'STKFLT', 'STOP', 'SYS', 'TERM', 'TRAP', 'TSTP',
  'TTIN', 'TTOU', 'URG', 'USR1', 'USR2', 'VTALRM', 'WINCH', 'XCPU', 'XFSZ', 'RTMIN', 'RTMAX',
]);

/**
 * Whether `text` names a signal as moby/sys/signal.ParseSignal reads one: a non-zero number,
 * or a name with or without `SIG` in any case (`SIGTERM`, `term`, `RTMIN+3`).
 */
export function isValidStopSignal(text: string): boolean {
  if (/^[+-]?\d+$/.test(text)) return Number(text) !== 0;
  const name = text.toUpperCase().replace(/^SIG/, '');
  if (SIGNALS.has(name)) return true;
  const rt = /^RTMIN\+(\d+)$/.exec(name) ?? /^RTMAX-(\d+)$/.exec(name);
  return rt !== null && Number(rt[1]) >= 1 && Number(rt[1]) <= (name.startsWith('RTMIN') ? 15 : 14);
}

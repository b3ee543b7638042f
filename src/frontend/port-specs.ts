import { isIP } from 'node:net';

/**
 * Parses EXPOSE arguments (`80`, `53/udp`, `8000-8002/tcp`, and the tolerated
 * `[ip:]hostPort:containerPort` forms) into `port/proto` entries, one per port of a range,
 * with BuildKit's rules and messages (dockerfile2llb/convert_expose.go).
 * @throws Error naming the bad spec; the caller adds where.
 */
export function parsePortSpecs(specs: readonly string[]): string[] {
  return specs.flatMap(parsePortSpec);
}

function parsePortSpec(raw: string): string[] {
  const { ip, hostPort, containerPort: withProto } = splitParts(raw);
  const slash = withProto.indexOf('/');
  const port = slash < 0 ? withProto : withProto.slice(0, slash);
  const proto = slash < 0 ? '' : withProto.slice(slash + 1);
  if (port === '') throw new Error(`invalid port: ${JSON.stringify(raw)}: no port specified`);
  const lower = proto.toLowerCase();
  if (lower !== '' && lower !== 'tcp' && lower !== 'udp' && lower !== 'sctp') {
    throw new Error(`invalid port: ${JSON.stringify(raw)}: invalid proto: ${proto}`);
  }
  const bareIp = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (ip !== '' && isIP(bareIp) === 0) throw new Error(`invalid IP address: ${ip}`);
  const range = parsePortRange(port);
  if (range === undefined) throw new Error(`invalid containerPort: ${port}`);
  if (hostPort !== '') {
    const host = parsePortRange(hostPort);
    if (host === undefined) throw new Error(`invalid hostPort: ${hostPort}`);
    if (range[1] - range[0] !== host[1] - host[0] && range[1] !== range[0]) {
      throw new Error(`invalid ranges specified for container and host Ports: ${port} and ${hostPort}`);
    }
  }
  const out: string[] = [];
  for (let p = range[0]; p <= range[1]; p++) out.push(`${p}/${lower === '' ? 'tcp' : lower}`);
  return out;
}

function splitParts(raw: string): { ip: string; hostPort: string; containerPort: string } {
  const parts = raw.split(':');
  const n = parts.length;
  if (n === 1) return { ip: '', hostPort: '', containerPort: parts[0] ?? '' };
  return { ip: parts.slice(0, n - 2).join(':'), hostPort: parts[n - 2] ?? '', containerPort: parts[n - 1] ?? '' };
}

function parsePortRange(text: string): [number, number] | undefined {
  const dash = text.indexOf('-');
  const startText = dash < 0 ? text : text.slice(0, dash);
  const endText = dash < 0 ? startText : text.slice(dash + 1);
  const start = parsePortNumber(startText);
  if (start === undefined) return undefined;
  if (endText === startText) return [start, start];
  const end = parsePortNumber(endText);
  if (end === undefined || end < start) return undefined;
  return [start, end];
}

function parsePortNumber(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 0 && n <= 65535 ? n : undefined;
}

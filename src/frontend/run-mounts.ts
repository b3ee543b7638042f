import { didYouMean } from './suggest.ts';

/** The mount types `RUN --mount=type=…` accepts. */
export const MOUNT_TYPES = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'] as const;
/** One of {@link MOUNT_TYPES}. */
export type MountType = (typeof MOUNT_TYPES)[number];

const SHARING = ['shared', 'private', 'locked'] as const;
const KEYS = [
  'type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode', 'uid', 'gid',
  'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'env',
];

/** One `--mount` after parsing, with BuildKit's defaults (instructions/commands_runmount.go). */
export interface RunMount {
  readonly type: MountType;
  /** `from=`: a stage, an image or '' for the build context (bind) or nothing. */
  readonly from: string;
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
  /** tmpfs `size=` in bytes; 0 when not given. */
  readonly sizeLimit: number;
  /** `id=`: a cache's or secret's or ssh agent's identity. */
  readonly id: string;
  readonly sharing: 'shared' | 'private' | 'locked' | undefined;
  readonly required: boolean;
  /** secret `env=`: the variable the secret is put into. */
  readonly env: string | undefined;
  readonly mode: number | undefined;
  readonly uid: number | undefined;
  readonly gid: number | undefined;
}

/**
 * Reads a mount's `from=` before anything is expanded, as BuildKit does to know which stages
 * a RUN depends on: a variable there is refused.
 * @throws Error for a malformed value or a variable in `from=`.
 */
export function mountFrom(value: string): string | undefined {
  let from: string | undefined;
  for (const field of csvFields(value)) {
    const eq = field.indexOf('=');
    if (eq < 0) continue;
    if (field.slice(0, eq).toLowerCase() !== 'from') continue;
    const v = field.slice(eq + 1);
    const dollar = v.indexOf('$');
    if (dollar !== -1 && dollar !== v.length - 1) {
      throw new Error(`'from' doesn't support variable expansion, define alias stage instead`);
    }
    from = v;
  }
  return from;
}

/**
 * Parses one `--mount` value: CSV fields, each `key=value` (its value expanded by `expand`)
 * or a bare `ro`/`rw`/`required`; then BuildKit's defaults (type bind; bind, secret and ssh
 * read-only, cache and tmpfs writable) and checks (which keys go with which type).
 * @throws Error with BuildKit's message; the caller adds where.
 */
export function parseRunMount(value: string, expand: (word: string) => string): RunMount {
  let type: MountType = 'bind';
  let from = '';
  let source = '';
  let target = '';
  let readOnly = false;
  let roAuto = true;
  let sizeLimit = 0;
  let id = '';
  let sharing: RunMount['sharing'];
  let required = false;
  let env: string | undefined;
  let mode: number | undefined;
  let uid: number | undefined;
  let gid: number | undefined;

  for (const field of csvFields(value)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') {
        readOnly = true;
        roAuto = false;
      } else if (key === 'readwrite' || key === 'rw') {
        readOnly = false;
        roAuto = false;
      } else if (key === 'required') {
        if (type !== 'secret' && type !== 'ssh') throw new Error(`unexpected key '${key}' for mount type '${type}'`);
        required = true;
      } else {
        throw new Error(`invalid field '${field}' must be a key=value pair`);
      }
      continue;
    }
    const v = expand(field.slice(eq + 1));
    switch (key) {
      case 'type': {
        const t = v.toLowerCase();
        if (!(MOUNT_TYPES as readonly string[]).includes(t)) {
          throw new Error(`unsupported mount type ${JSON.stringify(v)}${suffix(didYouMean(v, MOUNT_TYPES))}`);
        }
        type = t as MountType;
        break;
      }
      case 'from':
        from = v;
        break;
      case 'source':
      case 'src':
        source = v;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        target = v;
        break;
      case 'readonly':
      case 'ro':
        readOnly = goBool(key, v);
        roAuto = false;
        break;
      case 'readwrite':
      case 'rw':
        readOnly = !goBool(key, v);
        roAuto = false;
        break;
      case 'required':
        if (type !== 'secret' && type !== 'ssh') throw new Error(`unexpected key '${key}' for mount type '${type}'`);
        required = goBool(key, v);
        break;
      case 'size':
        if (type !== 'tmpfs') throw new Error(`unexpected key '${key}' for mount type '${type}'`);
        sizeLimit = ramInBytes(key, v);
        break;
      case 'id':
        id = v;
        break;
      case 'sharing': {
        const s = v.toLowerCase();
        if (!(SHARING as readonly string[]).includes(s)) {
          throw new Error(`unsupported sharing value ${JSON.stringify(v)}${suffix(didYouMean(v, SHARING))}`);
        }
        sharing = s as RunMount['sharing'];
        break;
      }
      case 'mode':
        if (!/^[0-7]+$/.test(v) || Number.parseInt(v, 8) > 0xffffffff) throw new Error(`invalid value ${v} for mode`);
        mode = Number.parseInt(v, 8);
        break;
      case 'uid':
        uid = uint32(v, 'uid');
        break;
      case 'gid':
        gid = uint32(v, 'gid');
        break;
      case 'env':
        env = v;
        break;
      default:
        throw new Error(`unexpected key '${key}' in '${field}'${suffix(didYouMean(key, KEYS, false))}`);
    }
  }

  if (type !== 'secret' && type !== 'ssh' && type !== 'cache') {
    if (mode !== undefined) throw new Error(`mode not allowed for ${JSON.stringify(type)} type mounts`);
    if (uid !== undefined) throw new Error(`uid not allowed for ${JSON.stringify(type)} type mounts`);
    if (gid !== undefined) throw new Error(`gid not allowed for ${JSON.stringify(type)} type mounts`);
  }
  if (roAuto) readOnly = type !== 'cache' && type !== 'tmpfs';
  if (type === 'secret') {
    if (from !== '') throw new Error('secret mount should not have a from');
    if (sharing !== undefined) throw new Error('secret mount should not define sharing');
    if (source === '' && target === '' && id === '') throw new Error('invalid secret mount. one of source, target required');
    if (source !== '' && id !== '') throw new Error("both source and id can't be set");
  }
  if (sharing !== undefined && type !== 'cache') throw new Error(`invalid cache sharing set for ${type} mount`);
  return { type, from, source, target, readOnly, sizeLimit, id, sharing, required, env, mode, uid, gid };
}

function suffix(hint: string | undefined): string {
  return hint === undefined ? '' : ` (${hint})`;
}

/** Go's strconv.ParseBool. */
function goBool(key: string, v: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new Error(`invalid value for ${key}: ${v}`);
}

function uint32(v: string, key: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) throw new Error(`invalid value ${v} for ${key}`);
  return Number(v);
}

/** docker/go-units RAMInBytes: `64m`, `1g`, `512KiB`, `1.5GB`, `1024`: binary multiples. */
function ramInBytes(key: string, v: string): number {
  const match = /^(\d+(?:\.\d*)?|\.\d+) ?([kmgtp]?)(b|ib)?$/i.exec(v);
  if (match === null || (match[2] === '' && match[3] !== undefined && match[3].toLowerCase() !== 'b')) {
    throw new Error(`invalid value for ${key}: ${v}`);
  }
  const units = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 } as const;
  const unit = (match[2] ?? '').toLowerCase() as keyof typeof units;
  return Math.trunc(Number(match[1]) * units[unit]);
}

/**
 * One CSV record as Go's encoding/csv reads it (tonistiigi/go-csvvalue): comma-separated
 * fields, a field in double quotes may hold commas and `""` for a quote.
 * @throws Error with the csv package's message.
 */
export function csvFields(line: string): string[] {
  let text = line.endsWith('\r\n') ? line.slice(0, -2) : line.endsWith('\n') ? line.slice(0, -1) : line;
  if (text === '') throw new Error('failed to parse csv mounts: EOF');
  const fail = (column: number, what: string): never => {
    throw new Error(`failed to parse csv mounts: parse error on line 1, column ${column}: ${what}`);
  };
  const fields: string[] = [];
  let pos = 0;
  for (;;) {
    if (!text.startsWith('"')) {
      const comma = text.indexOf(',');
      const field = comma < 0 ? text : text.slice(0, comma);
      const quote = field.indexOf('"');
      if (quote >= 0) fail(pos + quote + 1, 'bare " in non-quoted-field');
      fields.push(field);
      if (comma < 0) return fields;
      text = text.slice(comma + 1);
      pos += comma + 1;
      continue;
    }
    text = text.slice(1);
    pos += 1;
    let field = '';
    for (;;) {
      const quote = text.indexOf('"');
      if (quote < 0) fail(pos + 1, 'extraneous or missing " in quoted-field');
      field += text.slice(0, quote);
      text = text.slice(quote + 1);
      pos += quote + 1;
      if (text.startsWith('"')) {
        field += '"';
        text = text.slice(1);
        pos += 1;
        continue;
      }
      if (text.startsWith(',')) {
        fields.push(field);
        text = text.slice(1);
        pos += 1;
        break;
      }
      if (text === '') {
        fields.push(field);
        return fields;
      }
      fail(pos, 'extraneous or missing " in quoted-field');
    }
  }
}

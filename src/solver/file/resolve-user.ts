import { realpath } from 'node:fs/promises';
import { NotFoundError, UsageError } from '../../errors/index.ts';
import type { Owner } from './make-directories.ts';
import { type GroupEntry, parseGroup, parsePasswd, type PasswdEntry, readUserFile } from './user-database.ts';

/** Who a RUN step runs as. */
export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
  /** The process's groups: the primary gid first (containerd's rule), then the user's supplementary groups. */
  readonly additionalGids: readonly number[];
  /** HOME for the step when its environment has none: the passwd home of `uid`, else `/`. */
  readonly home: string;
}

/** The largest uid or gid moby/sys/user accepts (a 32-bit int). */
const MAX_ID = 2 ** 31 - 1;

/**
 * Resolves a RUN step's USER in the file system at `root` as BuildKit does (executor/oci
 * GetUser over moby/sys/user's GetExecUser, then runc's HOME):
 *
 * - `''` is root: uid 0 (its passwd entry when there is one), else 0:0;
 * - `uid:gid` with both numeric (or `root`) is taken as is, no supplementary groups;
 * - `name` or `uid` is looked up in /etc/passwd (a uid without an entry is that uid with
 *   gid 0); a matched user gets the groups of /etc/group that list it as supplementary;
 * - `user:group` looks the group up in /etc/group by name or gid (a numeric gid without an
 *   entry is taken as is).
 *
 * The files are read inside the root (see {@link readUserFile}).
 *
 * @throws NotFoundError naming the user or group ("unable to find user app: no matching
 * entries in passwd file"); UsageError for an id out of range; InputError for an unreadable
 * passwd or group file
 */
export async function resolveUser(root: string, spec: string): Promise<ResolvedUser> {
  const realRoot = await realpath(root);
  return resolveUserIn({ passwd: () => readUserFile(realRoot, '/etc/passwd'), group: () => readUserFile(realRoot, '/etc/group') }, spec);
}

/** The user database's files as {@link resolveUserIn} reads them: each text, or undefined when absent. */
export interface UserFiles {
  readonly passwd: () => Promise<string | undefined> | string | undefined;
  readonly group: () => Promise<string | undefined> | string | undefined;
}

/** {@link resolveUser} over the files' texts (a RUN reads them through its snapshot's layers). */
export async function resolveUserIn(files: UserFiles, spec: string): Promise<ResolvedUser> {
  const passwdText = await files.passwd();
  const passwd = passwdText === undefined ? undefined : parsePasswd(passwdText);
  const isDefault = spec === '';
  const user = isDefault ? '0' : spec;
  let ids: { uid: number; gid: number; groups: readonly number[] };
  const fast = numericPair(user);
  if (fast !== undefined) {
    ids = { ...fast, groups: [] };
  } else {
    const groupText = await files.group();
    const group = groupText === undefined ? undefined : parseGroup(groupText);
    try {
      ids = execUser(user, passwd, group);
    } catch (error) {
      // GetUser: the default user never fails, it is root.
      if (!isDefault) throw error;
      ids = { uid: 0, gid: 0, groups: [] };
    }
  }
  const home = passwd?.find((entry) => entry.uid === ids.uid)?.home || '/';
  const additionalGids = ids.groups.includes(ids.gid) ? [...ids.groups] : [ids.gid, ...ids.groups];
  return { uid: ids.uid, gid: ids.gid, additionalGids, home };
}

/**
 * Resolves a `--chown` (COPY, ADD; also the owner BuildKit gives WORKDIR's directories) in
 * the destination's file system at `root`, as BuildKit's llb.WithUser and file op readUser
 * do: `''` is 0:0; a numeric user (or `root`) is that uid and the same gid; a name is its
 * passwd uid and gid; `:group` then replaces the gid, by number or by name from /etc/group.
 *
 * Two departures from BuildKit, which are errors here rather than silent root ownership: an
 * unknown user or group name fails, naming it; and `user:` (empty group) means the user's
 * own group, as chown(1) reads it, where BuildKit takes gid 0 (moby/buildkit#3555).
 *
 * @throws NotFoundError naming an unknown user or group; UsageError for a negative or
 * out-of-range id
 */
export async function resolveChown(root: string, spec: string): Promise<Owner> {
  if (spec === '') return { uid: 0, gid: 0 };
  const colon = spec.indexOf(':');
  const userPart = colon < 0 ? spec : spec.slice(0, colon);
  const groupPart = colon < 0 ? undefined : spec.slice(colon + 1);
  const realRoot = await realpath(root);
  let uid = 0;
  let gid = 0;
  const userId = chownId(userPart, spec);
  if (userId !== undefined) {
    uid = userId;
    gid = userId;
  } else if (userPart !== '') {
    const text = await readUserFile(realRoot, '/etc/passwd');
    const entry = text === undefined ? undefined : parsePasswd(text).find((candidate) => candidate.name === userPart);
    if (entry === undefined) throw missing('user', userPart, 'passwd');
    uid = entry.uid;
    gid = entry.gid;
  }
  if (groupPart === undefined || groupPart === '') return { uid, gid };
  const groupId = chownId(groupPart, spec);
  if (groupId !== undefined) return { uid, gid: groupId };
  const text = await readUserFile(realRoot, '/etc/group');
  const entry = text === undefined ? undefined : parseGroup(text).find((candidate) => candidate.name === groupPart);
  if (entry === undefined) throw missing('group', groupPart, 'group');
  return { uid, gid: entry.gid };
}

/** moby/sys/user GetExecUser for a spec that is not a numeric pair. */
function execUser(
  spec: string,
  passwd: readonly PasswdEntry[] | undefined,
  group: readonly GroupEntry[] | undefined,
): { uid: number; gid: number; groups: readonly number[] } {
  // parseLine: fields at every `:`, the first two kept.
  const [userArg = '', groupArg = ''] = spec.split(':');
  const uidArg = execId(userArg);
  const gidArg = execId(groupArg);
  let uid = 0;
  let gid = 0;
  let groups: number[] = [];
  const matched = (passwd ?? []).find((entry) =>
    userArg === '' ? entry.uid === 0 : uidArg !== undefined ? entry.uid === uidArg : entry.name === userArg,
  );
  if (matched !== undefined) {
    uid = matched.uid;
    gid = matched.gid;
  } else if (userArg !== '') {
    if (uidArg === undefined) throw missing('user', userArg, 'passwd');
    uid = uidArg;
  }
  if (groupArg !== '') {
    const found = (group ?? []).find((entry) => (gidArg !== undefined ? entry.gid === gidArg : entry.name === groupArg));
    if (found !== undefined) gid = found.gid;
    else if (gidArg === undefined) throw missing('group', groupArg, 'group');
    else gid = gidArg;
  } else if (matched !== undefined) {
    groups = (group ?? []).filter((entry) => entry.members.includes(matched.name)).map((entry) => entry.gid);
  }
  return { uid, gid, groups };
}

/** `uid:gid` both numeric or `root` (BuildKit's ParseUIDGID fast path), else undefined. */
function numericPair(spec: string): { uid: number; gid: number } | undefined {
  const colon = spec.indexOf(':');
  if (colon < 0) return undefined;
  const uid = fastId(spec.slice(0, colon));
  const gid = fastId(spec.slice(colon + 1));
  return uid === undefined || gid === undefined ? undefined : { uid, gid };
}

/** BuildKit's parseUID: `root` or a uint32. */
function fastId(text: string): number | undefined {
  if (text === 'root') return 0;
  if (!/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return value <= 0xffffffff ? value : undefined;
}

/** moby/sys/user parseNumeric: a decimal integer is an id (0…2^31-1), anything else a name. */
function execId(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const value = Number(text);
  if (value < 0 || value > MAX_ID) {
    throw new UsageError(`user ${JSON.stringify(text)}: uids and gids must be in range 0-${MAX_ID}`);
  }
  return value;
}

/** llb.WithUser's parseUID: `root` or a decimal int32; a negative one is refused. */
function chownId(text: string, spec: string): number | undefined {
  if (text === 'root') return 0;
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const value = Number(text);
  if (value < 0 || value > MAX_ID) {
    throw new UsageError(`--chown=${spec}: ${JSON.stringify(text)} is not an id between 0 and ${MAX_ID}`);
  }
  return value;
}

function missing(kind: 'user' | 'group', name: string, file: 'passwd' | 'group'): NotFoundError {
  return new NotFoundError(`unable to find ${kind} ${name}: no matching entries in ${file} file`, {
    hint: `create the ${kind} in an earlier step, or give a numeric id`,
  });
}


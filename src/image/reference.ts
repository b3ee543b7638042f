import { isDigest, type Digest } from '../content/index.ts';
import { InputError } from '../errors/index.ts';

/**
 * A normalised image reference, as docker, containerd and BuildKit read one through
 * github.com/distribution/reference's ParseNormalizedNamed: `busybox` is
 * `{domain: 'docker.io', path: 'library/busybox'}`.
 *
 * `domain` is a registry host with an optional port (`docker.io`, `localhost:5000`,
 * `[::1]:5000`), never empty; `path` is the repository inside it. A reference may carry a
 * tag, a digest, both (`a:tag@sha256:…`, where the digest decides what is fetched) or
 * neither (see {@link withDefaultTag}). Made only by {@link parseReference}.
 */
export interface Reference {
  readonly kind: 'reference';
  readonly domain: string;
  readonly path: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

/** The registry that familiar names live on, and the namespace of its official images. */
const HUB_DOMAIN = 'docker.io';
const HUB_LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const DEFAULT_TAG = 'latest';

/** distribution/reference RepositoryNameTotalLengthMax; it counts the path, not the domain. */
const PATH_MAX = 255;
const TAG_MAX = 128;

// The grammar of distribution/reference (reference.go's doc comment), one piece at a time.
// Matching pieces after splitting on `@`, `:` and `/` accepts exactly what its single
// regexp accepts, and keeps every match linear however long or hostile the input.

/** One path component: lowercase alphanumeric runs joined by `.`, `_`, `__` or dashes. */
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const PATH = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
/**
 * A registry host and optional port: DNS-like labels (any case, no leading or trailing
 * dash; IPv4 is a special case of these) or a bracketed IPv6 address without a zone.
 */
const DOMAIN_LABEL = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const DOMAIN = new RegExp(`^(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
/** Docker's tag rule, from the days of graph/tags.go: word characters, `.` and `-`. */
const TAG = new RegExp(`^\\w[\\w.-]{0,${TAG_MAX - 1}}$`);
const TAG_CHARACTERS = /^\w[\w.-]*$/;
/** Any well-formed digest; which algorithms are supported is decided after the match. */
const DIGEST_SHAPE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}$/;
/** A bare image ID, which ParseNormalizedNamed refuses as a name. */
const FULL_ID = /^[a-f0-9]{64}$/;
/** moby's checkTruncatedID (daemon/containerd/image.go): what may be a short image ID. */
const TRUNCATED_ID = /^(?:sha256:)?([a-f0-9]{4,64})$/;

/**
 * Parses what a user or a Dockerfile wrote (`FROM`, `docker pull`, `--tag`) into a
 * normalised {@link Reference}, with the rules of distribution/reference's
 * ParseNormalizedNamed:
 *
 * - The first `/`-separated element is the registry when it is `localhost`, contains `.`
 *   or `:`, or has an uppercase letter; otherwise the name is on Docker Hub (`docker.io`).
 *   A name without `/` is always on Docker Hub, so `localhost` alone is
 *   `docker.io/library/localhost` and `example.com:5000` is `example.com` tagged `5000`.
 * - `index.docker.io` is rewritten to `docker.io`; on Docker Hub a one-element path gets
 *   the `library/` namespace. Other registries keep their path as written.
 * - The repository path must be lowercase and at most 255 characters (counted after
 *   `library/` is added); a tag is `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`; a digest must be
 *   sha256 with 64 lowercase hex digits.
 * - Exactly 64 lowercase hex digits, with nothing before or after, is refused: it is an
 *   image ID, not a name. `docker.io/<hex>`, `<hex>:tag` and 63 digits are names.
 *
 * Nothing is added: a reference without tag or digest stays so ({@link withDefaultTag}).
 * @throws InputError naming the text and what is wrong with it.
 */
export function parseReference(text: string): Reference {
  if (text === '') throw invalid(text, 'invalid reference format: the reference is empty');
  if (FULL_ID.test(text)) {
    throw invalid(text, 'cannot specify 64-byte hexadecimal strings as a repository name', {
      hint: 'That is an image ID; to name a repository so, give its registry, as in docker.io/<hex>.',
    });
  }
  const { domain, remainder } = splitDomain(text);
  // distribution checks the repository part before the grammar so that `Foo` says
  // "lowercase" and not "invalid format"; a digest's algorithm is checked here too.
  const colon = remainder.indexOf(':');
  const repository = colon < 0 ? remainder : remainder.slice(0, colon);
  if (repository !== repository.toLowerCase()) throw uppercase(text);
  return matchNormalised(text, `${domain}/${remainder}`);
}

/**
 * The reference with tag `latest` when it has neither tag nor digest (docker's
 * TagNameOnly): what `docker pull busybox` pulls. Otherwise the reference itself.
 */
export function withDefaultTag(ref: Reference): Reference {
  if (ref.tag !== undefined || ref.digest !== undefined) return ref;
  return { ...ref, tag: DEFAULT_TAG };
}

/** `domain/path`: the repository without tag or digest, e.g. `docker.io/library/busybox`. */
export function repositoryName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/**
 * The full string, `domain/path[:tag][@digest]`, e.g. `docker.io/library/busybox:latest`.
 * {@link parseReference} always reads it back to an equal reference.
 */
export function formatReference(ref: Reference): string {
  return withSuffixes(repositoryName(ref), ref);
}

/**
 * The repository as docker shows it (FamiliarName): Docker Hub's domain dropped, and the
 * `library/` namespace dropped when nothing is nested under it. `busybox`, `user/app`,
 * `library/a/b`, `localhost:5000/app`.
 */
export function familiarName(ref: Reference): string {
  if (ref.domain !== HUB_DOMAIN) return repositoryName(ref);
  const official = ref.path.startsWith(OFFICIAL_PREFIX) ? ref.path.slice(OFFICIAL_PREFIX.length) : undefined;
  // `library/a/b` keeps its namespace: `a/b` would read back as a user's repository.
  return official !== undefined && !official.includes('/') ? official : ref.path;
}

/**
 * The reference as docker shows it (FamiliarString): {@link familiarName} with the tag and
 * digest, e.g. `busybox:latest`. {@link parseReference} reads it back to an equal reference,
 * except for an official image named by 64 hex digits and nothing else, which reads as an
 * image ID (distribution has the same gap).
 */
export function familiarString(ref: Reference): string {
  return withSuffixes(familiarName(ref), ref);
}

/**
 * How a command that takes "an image" (`image inspect`, `rmi`, `run`, `tag`'s source) reads
 * its argument, following moby (daemon/containerd/image.go resolveImage, after
 * distribution's ParseAnyReference):
 *
 * - `id`: 64 lowercase hex digits, or `sha256:` and 64 lowercase hex digits. Only an image
 *   ID; looked up by that digest alone.
 * - `reference-or-id`: 4 to 63 lowercase hex digits, optionally after `sha256:`. Docker
 *   looks the name up first (`ref`, which wants {@link withDefaultTag}; `sha256:abcd`
 *   parses as `docker.io/library/sha256:abcd`), and only when no image has that name takes
 *   `prefix` as an ID prefix; more than one image with the prefix is ambiguous, not a match.
 * - `reference`: anything else that parses; a name, looked up by name (and by digest when
 *   it has one, as `name@sha256:…` must match both).
 *
 * The 4-digit minimum is the containerd image store's (moby's checkTruncatedID); the older
 * graph-driver store accepted any prefix.
 * @throws InputError from {@link parseReference} when the text is none of these.
 */
export function parseImageLookup(text: string): ImageLookup {
  const full = FULL_ID.test(text) ? `sha256:${text}` : text;
  if (isDigest(full)) return { kind: 'id', digest: full };
  const ref = parseReference(text);
  const prefix = TRUNCATED_ID.exec(text)?.[1];
  return prefix === undefined ? { kind: 'reference', ref } : { kind: 'reference-or-id', ref, prefix };
}

/** What {@link parseImageLookup} makes of an image argument. */
export type ImageLookup =
  | { readonly kind: 'id'; readonly digest: Digest }
  | { readonly kind: 'reference'; readonly ref: Reference }
  | { readonly kind: 'reference-or-id'; readonly ref: Reference; readonly prefix: string };

function withSuffixes(name: string, ref: Reference): string {
  const tag = ref.tag === undefined ? '' : `:${ref.tag}`;
  const digest = ref.digest === undefined ? '' : `@${ref.digest}`;
  return `${name}${tag}${digest}`;
}

/**
 * distribution's splitDockerDomain: decides from the first element alone whether the text
 * names a registry, and puts Docker Hub's official images under `library/`. `remainder`
 * still carries the tag and digest.
 */
function splitDomain(text: string): { domain: string; remainder: string } {
  const slash = text.indexOf('/');
  if (slash < 0) return { domain: HUB_DOMAIN, remainder: OFFICIAL_PREFIX + text };
  const first = text.slice(0, slash);
  const rest = text.slice(slash + 1);
  let domain: string;
  let remainder: string;
  if (first === HUB_LEGACY_DOMAIN) {
    [domain, remainder] = [HUB_DOMAIN, rest];
  } else if (first === 'localhost' || /[.:]/.test(first) || first !== first.toLowerCase()) {
    // No Docker Hub namespace has a `.`, `:` or uppercase letter, so such an element can
    // only mean a host; `localhost` is reserved as one.
    [domain, remainder] = [first, rest];
  } else {
    [domain, remainder] = [HUB_DOMAIN, text];
  }
  if (domain === HUB_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * distribution's Parse on the normalised text `domain/remainder`, with the errors of
 * distribution's order: grammar (uppercase when lowercasing would have fixed it), then the
 * path length, then the digest. `text` is what the user wrote, for messages.
 */
function matchNormalised(text: string, normalised: string): Reference {
  const parts = matchGrammar(normalised);
  if (typeof parts === 'string') {
    const lower = normalised.toLowerCase();
    if (lower !== normalised && typeof matchGrammar(lower) !== 'string') throw uppercase(text);
    throw invalid(text, parts === '' ? 'invalid reference format' : `invalid reference format: ${parts}`);
  }
  if (parts.domain === '') {
    // distribution would accept `foo_bar.com/app` as a domain-less path, since `foo_bar.com`
    // is not a host but is a path component; kiln refuses what names no registry.
    throw invalid(text, `invalid reference format: "${normalised.split('/', 1)[0]}" is not a valid registry host`);
  }
  if (parts.path.length > PATH_MAX) {
    throw invalid(text, `repository name must not be more than ${PATH_MAX} characters (it has ${parts.path.length})`);
  }
  const ref: Reference = { kind: 'reference', domain: parts.domain, path: parts.path };
  const withTag: Reference = parts.tag === undefined ? ref : { ...ref, tag: parts.tag };
  if (parts.digest === undefined) return withTag;
  return { ...withTag, digest: checkDigest(text, parts.digest) };
}

interface GrammarParts {
  readonly domain: string;
  readonly path: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

/**
 * Splits `name[:tag][@digest]` and matches each piece, or returns why it does not match
 * ('' when no one piece is to blame). The splits are forced: a name has no `@`, and a `:`
 * after the last `/` cannot be part of a name (ports come before a `/`) nor of a tag.
 */
function matchGrammar(text: string): GrammarParts | string {
  const at = text.indexOf('@');
  const nameAndTag = at < 0 ? text : text.slice(0, at);
  const digest = at < 0 ? undefined : text.slice(at + 1);
  const colon = nameAndTag.lastIndexOf(':');
  const hasTag = colon > nameAndTag.lastIndexOf('/');
  const name = hasTag ? nameAndTag.slice(0, colon) : nameAndTag;
  const tag = hasTag ? nameAndTag.slice(colon + 1) : undefined;

  const slash = name.indexOf('/');
  // As distribution's regexp does, prefer reading the first element as a host.
  const split =
    slash >= 0 && DOMAIN.test(name.slice(0, slash)) && PATH.test(name.slice(slash + 1))
      ? { domain: name.slice(0, slash), path: name.slice(slash + 1) }
      : PATH.test(name)
        ? { domain: '', path: name }
        : undefined;
  if (split === undefined) return '';
  if (tag !== undefined && !TAG.test(tag)) {
    return TAG_CHARACTERS.test(tag)
      ? `invalid tag: ${tag.length} characters, more than the limit of ${TAG_MAX}`
      : `invalid tag "${tag}": use letters, digits, '_', '.' and '-', not starting with '.' or '-'`;
  }
  if (digest !== undefined && !DIGEST_SHAPE.test(digest)) return `invalid digest "${digest}"`;
  return { ...split, tag, digest };
}

/** go-digest's Parse, narrowed to the one algorithm kiln stores. */
function checkDigest(text: string, digest: string): Digest {
  if (isDigest(digest)) return digest;
  const [algorithm = '', hex = ''] = digest.split(':');
  if (algorithm !== 'sha256') {
    throw invalid(text, `invalid digest: unsupported digest algorithm ${algorithm} (kiln supports sha256)`);
  }
  if (hex.length !== 64) {
    throw invalid(text, `invalid digest: a sha256 digest has 64 hex digits, this one has ${hex.length}`);
  }
  throw invalid(text, 'invalid digest: uppercase hex digits are not allowed in a sha256 digest');
}

function uppercase(text: string): InputError {
  return invalid(text, 'repository name must be lowercase', {
    hint: 'Only the registry host and the tag may contain uppercase letters.',
  });
}

function invalid(text: string, what: string, options: { hint?: string } = {}): InputError {
  return new InputError(`invalid reference ${JSON.stringify(text)}: ${what}`, options);
}

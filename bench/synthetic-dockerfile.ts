/**
 * A deterministic pseudo-random source (mulberry32): the same seed gives the same sequence
 * on every machine, so a benchmark input is reproducible without being stored.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A template writes one instruction (and the lines it spans) from a random source. */
type Template = (pick: Picker) => string;

interface Picker {
  one<T>(items: readonly T[]): T;
  int(below: number): number;
  word(): string;
}

const WORDS = ['app', 'build', 'cache', 'data', 'etc', 'lib', 'node', 'opt', 'src', 'tmp', 'usr', 'var', 'web', 'www'];
const IMAGES = ['alpine:3.20', 'debian:bookworm-slim', 'golang:1.23', 'node:20-alpine', 'scratch', 'ubuntu:24.04'];
const PACKAGES = ['ca-certificates', 'curl', 'git', 'make', 'openssl', 'python3', 'tzdata', 'unzip'];

/*
 * One template per form the parser distinguishes: every instruction, builder flags, the exec
 * (JSON) and shell forms, continuation lines (with a comment line inside one), heredocs
 * (plain, quoted, `<<-` with tabs, two on one line), ENV/LABEL pairs and the legacy form,
 * ONBUILD triggers, and comments above instructions. Each produces a valid instruction, so
 * both parsers do their full work rather than bailing out on errors.
 */
const TEMPLATES: readonly Template[] = [
  (p) => `FROM ${p.one(IMAGES)} AS stage-${p.word()}`,
  (p) => `FROM --platform=$BUILDPLATFORM ${p.one(IMAGES)}`,
  (p) => `RUN apt-get update && apt-get install -y --no-install-recommends ${p.one(PACKAGES)} ${p.one(PACKAGES)}`,
  (p) =>
    `RUN set -eux; \\\n    mkdir -p /${p.word()}/${p.word()}; \\\n    # a comment inside the continuation\n    echo "${p.word()} \${HOME}" > /${p.word()}/out; \\\n    chmod 0644 /${p.word()}/out`,
  (p) => `RUN --mount=type=cache,target=/root/.cache,sharing=locked --network=none make -j${p.int(16) + 1} ${p.word()}`,
  (p) => `RUN ["/bin/sh", "-c", "echo ${p.word()} && exit 0"]`,
  (p) => `RUN <<EOF\nset -e\necho ${p.word()} > /${p.word()}\napt-get install -y ${p.one(PACKAGES)}\nEOF`,
  (p) => `RUN <<-'SCRIPT' bash\n\techo "\${${p.word().toUpperCase()}}"\n\t\tindented ${p.word()}\n\tSCRIPT`,
  (p) => `COPY --from=stage-${p.word()} --chown=${p.int(1000)}:${p.int(1000)} --chmod=755 /${p.word()}/bin /usr/local/bin/`,
  (p) => `COPY ["${p.word()} file.txt", "/${p.word()}/with space/"]`,
  (p) => `COPY <<one.txt <<two.txt /${p.word()}/\nfirst ${p.word()}\none.txt\nsecond ${p.word()}\ntwo.txt`,
  (p) => `ADD --checksum=sha256:${'0123456789abcdef'.repeat(4)} https://example.com/${p.word()}.tar.gz /${p.word()}/`,
  (p) => `ADD ${p.word()}.tar.gz ${p.word()}.tar.gz /opt/${p.word()}/`,
  (p) => `CMD ["node", "/${p.word()}/server.js", "--port", "${8000 + p.int(1000)}"]`,
  (p) => `CMD ${p.word()} --serve /${p.word()}`,
  (p) => `ENTRYPOINT ["/usr/bin/tini", "--", "/${p.word()}/entrypoint.sh"]`,
  () => `SHELL ["/bin/bash", "-o", "pipefail", "-c"]`,
  (p) => `ENV ${p.word().toUpperCase()}=${p.word()} PATH="/${p.word()}/bin:$PATH" MESSAGE='hello ${p.word()}'`,
  (p) => `ENV ${p.word().toUpperCase()}_HOME /opt/${p.word()} with words`,
  (p) =>
    `LABEL org.opencontainers.image.title="${p.word()}" \\\n      org.opencontainers.image.version="1.${p.int(50)}.${p.int(50)}" \\\n      description="a \\"quoted\\" ${p.word()}"`,
  (p) => `ARG ${p.word().toUpperCase()}_VERSION=${p.int(20)}.${p.int(20)}`,
  (p) => `ARG ${p.word().toUpperCase()}`,
  (p) => `EXPOSE ${1000 + p.int(9000)}/tcp ${1000 + p.int(9000)}/udp`,
  (p) => `USER ${p.word()}:${p.word()}`,
  (p) => `WORKDIR /${p.word()}/${p.word()}`,
  (p) => `VOLUME ["/${p.word()}", "/${p.word()}/${p.word()}"]`,
  (p) => `VOLUME /${p.word()} /${p.word()}`,
  () => 'STOPSIGNAL SIGTERM',
  (p) =>
    `HEALTHCHECK --interval=30s --timeout=${p.int(10) + 1}s --retries=3 \\\n  CMD curl -f http://localhost:${8000 + p.int(1000)}/ || exit 1`,
  () => 'HEALTHCHECK NONE',
  (p) => `ONBUILD RUN --mount=type=secret,id=${p.word()} ./${p.word()}.sh`,
  (p) => `ONBUILD COPY . /${p.word()}/`,
  (p) => `MAINTAINER ${p.word()} <${p.word()}@example.com>`,
];

/**
 * A Dockerfile of exactly `instructions` instructions drawn from every form kiln parses (see
 * the templates above), one comment block every few instructions, with `# syntax` and
 * `# escape` directives on top. The same seed gives the same text.
 */
export function syntheticDockerfile(instructions: number, seed: number): string {
  const random = seededRandom(seed);
  const pick: Picker = {
    one: (items) => items[Math.floor(random() * items.length)] as (typeof items)[number],
    int: (below) => Math.floor(random() * below),
    word: () => WORDS[Math.floor(random() * WORDS.length)] ?? 'x',
  };
  const lines = ['# syntax=docker/dockerfile:1', '# escape=\\', ''];
  for (let i = 0; i < instructions; i++) {
    if (pick.int(4) === 0) lines.push(`# step ${i}: ${pick.word()} ${pick.word()}`);
    if (pick.int(8) === 0) lines.push('');
    lines.push(pick.one(TEMPLATES)(pick));
  }
  return `${lines.join('\n')}\n`;
}

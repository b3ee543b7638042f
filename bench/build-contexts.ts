import { createCipheriv } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/*
 * The build contexts of bench/build, generated (nothing is downloaded), in the shapes the
 * performance issue gives so that the later peer comparison can build the very same ones:
 * W1 a small app, W4 a 20,000-file 300 MB context, W5 four independent sleeping stages,
 * W6 forty chained RUN steps. Every context builds FROM `busybox` (the image bench/build
 * imports from Debian's busybox-static).
 */

/** What a generated context holds. */
export interface ContextSize {
  /** Regular files, the Dockerfile included. */
  readonly files: number;
  /** Their bytes. */
  readonly bytes: number;
}

/** The W1 Dockerfile: WORKDIR, COPY of a small source tree, three RUNs, ENV, LABEL, USER, CMD. */
const SMALL_APP_DOCKERFILE = `FROM busybox
WORKDIR /app
COPY src/ ./src/
RUN mkdir -p out && cat src/*/*.js > out/bundle.js
RUN wc -c out/bundle.js > out/size && find src -type f | wc -l > out/count
RUN echo 'app:x:1000:1000:app:/app:/bin/sh' >> /etc/passwd && echo 'app:x:1000:' >> /etc/group
ENV NODE_ENV=production PORT=8080
LABEL org.opencontainers.image.title=bench-app
USER app
CMD ["sh", "-c", "cat out/size"]
`;

const SMALL_APP_FOLDERS = ['app', 'lib', 'util', 'views'];
const SMALL_APP_FILES_PER_FOLDER = 10;

/** The source file {@link editSmallApp} rewrites. */
export const SMALL_APP_EDITED_FILE = 'src/app/module-0.js';

/**
 * Writes W1 into `dir` (created): its Dockerfile and a source tree of 40 JavaScript-like files
 * of 1 to 4 KiB in four folders.
 */
export async function writeSmallApp(dir: string): Promise<ContextSize> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Dockerfile'), SMALL_APP_DOCKERFILE);
  let bytes = SMALL_APP_DOCKERFILE.length;
  for (const folder of SMALL_APP_FOLDERS) {
    await mkdir(join(dir, 'src', folder), { recursive: true });
    for (let i = 0; i < SMALL_APP_FILES_PER_FOLDER; i++) {
      const text = sourceText(`${folder}-${i}`, 1024 + ((i * 2654435761) % 3072));
      await writeFile(join(dir, 'src', folder, `module-${i}.js`), text);
      bytes += text.length;
    }
  }
  return { files: 1 + SMALL_APP_FOLDERS.length * SMALL_APP_FILES_PER_FOLDER, bytes };
}

/**
 * W3's edit: rewrites {@link SMALL_APP_EDITED_FILE} with content that differs for every
 * `generation`, so that each rebuild misses the cache from the COPY on.
 */
export async function editSmallApp(dir: string, generation: number): Promise<void> {
  await writeFile(join(dir, SMALL_APP_EDITED_FILE), sourceText(`edit-${generation}`, 2048));
}

/** JavaScript-looking text of exactly `size` bytes (compressible, as source is). */
function sourceText(name: string, size: number): string {
  let text = `// ${name}\n`;
  for (let line = 0; text.length < size; line++) {
    text += `export function ${name.replace(/-/g, '_')}_${line}(value) { return value * ${line} + ${text.length}; }\n`;
  }
  return text.slice(0, size);
}

/** The W4 Dockerfile: the whole context copied, then read back. */
const BIG_CONTEXT_DOCKERFILE = `FROM busybox
COPY . /ctx
RUN ls -R /ctx | wc -l
`;

const BIG_FOLDERS = 200;
const SMALL_PER_FOLDER = 99;
const BIG_FILE_SIZE = 1024 * 1024;

/** The file W4's "touched" rebuild gives a new mtime (same content). */
export const BIG_CONTEXT_TOUCHED_FILE = 'pkg0/mod0/f0.ts';

/**
 * Writes W4 into `dir` (created): 200 folders of 99 source-like files of 1 to 9 KiB and one
 * 1 MiB binary each (half pseudo-random, half text, so a layer compressor meets both), plus
 * the Dockerfile: 20,001 files, about 300 MB. Deterministic: the same bytes on every machine.
 */
export async function writeBigContext(dir: string): Promise<ContextSize> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Dockerfile'), BIG_CONTEXT_DOCKERFILE);
  let files = 1;
  let bytes = BIG_CONTEXT_DOCKERFILE.length;
  // AES-CTR over zeros with a fixed key: a fast, seeded stream of incompressible bytes.
  const keystream = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(BIG_FILE_SIZE / 2);
  for (let d = 0; d < BIG_FOLDERS; d++) {
    const folder = join(dir, `pkg${Math.floor(d / 20)}`, `mod${d}`);
    await mkdir(folder, { recursive: true });
    const writes: Promise<void>[] = [];
    for (let f = 0; f < SMALL_PER_FOLDER; f++) {
      const size = 1024 + (((d * SMALL_PER_FOLDER + f) * 2654435761) % (8 * 1024));
      writes.push(writeFile(join(folder, `f${f}.ts`), sourceText(`m${d}-f${f}`, size)));
      bytes += size;
    }
    const random = keystream.update(zeros);
    const text = Buffer.from(sourceText(`bundle-${d}`, BIG_FILE_SIZE - random.length));
    writes.push(writeFile(join(folder, 'bundle.bin'), Buffer.concat([random, text])));
    bytes += BIG_FILE_SIZE;
    files += SMALL_PER_FOLDER + 1;
    await Promise.all(writes);
  }
  return { files, bytes };
}

/** How many independent stages W5 has; each sleeps this many seconds. */
export const SLEEP_STAGES = 4;
export const SLEEP_SECONDS = 1;

/**
 * Writes W5 into `dir` (created): four stages each `RUN sleep 1 && echo N > /out`, and a
 * final stage copying /out from all four. Run in parallel, it cannot take less than 1 s.
 */
export async function writeParallelSleeps(dir: string): Promise<ContextSize> {
  const lines: string[] = [];
  for (let n = 1; n <= SLEEP_STAGES; n++) {
    lines.push(`FROM busybox AS stage${n}`, `RUN sleep ${SLEEP_SECONDS} && echo ${n} > /out`, '');
  }
  lines.push('FROM busybox');
  for (let n = 1; n <= SLEEP_STAGES; n++) lines.push(`COPY --from=stage${n} /out /out${n}`);
  return writeDockerfileOnly(dir, `${lines.join('\n')}\n`);
}

/** How many RUN steps W6 chains. */
export const CHAINED_STEPS = 40;

/** Writes W6 into `dir` (created): forty chained `RUN echo N > /f_N` on busybox. */
export async function writeChainedRuns(dir: string): Promise<ContextSize> {
  const lines = ['FROM busybox'];
  for (let n = 1; n <= CHAINED_STEPS; n++) lines.push(`RUN echo ${n} > /f_${n}`);
  return writeDockerfileOnly(dir, `${lines.join('\n')}\n`);
}

async function writeDockerfileOnly(dir: string, dockerfile: string): Promise<ContextSize> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Dockerfile'), dockerfile);
  return { files: 1, bytes: dockerfile.length };
}

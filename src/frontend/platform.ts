/** An OCI platform as the frontend handles it. */
export interface TargetPlatform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

const KNOWN_OS = new Set(['aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'illumos', 'ios', 'js', 'linux', 'netbsd', 'openbsd', 'plan9', 'solaris', 'wasip1', 'windows']);
const KNOWN_ARCH = new Set(['386', 'amd64', 'arm', 'arm64', 'loong64', 'mips', 'mipsle', 'mips64', 'mips64le', 'ppc64', 'ppc64le', 'riscv64', 's390x', 'wasm']);

/**
 * Parses a platform specifier (`linux/amd64`, `linux/arm/v7`, `arm64`, `linux`) and
 * normalises it as containerd's platforms.Parse does (`x86_64` → amd64, `aarch64` → arm64,
 * `armhf` → arm/v7, arm64's `v8` variant dropped, arm's default variant v7). A lone
 * architecture means Linux; a lone OS takes `fallback`'s architecture.
 * @throws Error naming the specifier when it is not a platform; the caller adds where.
 */
export function parsePlatform(specifier: string, fallback: TargetPlatform): TargetPlatform {
  const unknown = (): Error => new Error(`${JSON.stringify(specifier)}: unknown operating system or architecture: invalid argument`);
  if (specifier.includes('*')) throw new Error(`${JSON.stringify(specifier)}: wildcards not yet supported: invalid argument`);
  const parts = specifier.split('/');
  const os = (parts[0] ?? '').toLowerCase();
  if (parts.length === 1) {
    if (KNOWN_OS.has(os)) return normalizePlatform({ os, architecture: fallback.architecture, variant: fallback.variant ?? '' });
    const platform = normalizePlatform({ os: 'linux', architecture: os, variant: '' });
    if (!KNOWN_ARCH.has(platform.architecture)) throw unknown();
    return platform;
  }
  if (parts.length > 3 || parts.some((p) => p === '')) throw unknown();
  const platform = normalizePlatform({ os, architecture: (parts[1] ?? '').toLowerCase(), variant: (parts[2] ?? '').toLowerCase() });
  if (!KNOWN_OS.has(platform.os) || !KNOWN_ARCH.has(platform.architecture)) throw unknown();
  return platform;
}

/** containerd's normalisation of architecture names and variants. */
export function normalizePlatform(p: TargetPlatform): TargetPlatform {
  let architecture = p.architecture.toLowerCase();
  let variant = (p.variant ?? '').toLowerCase();
  switch (architecture) {
    case 'i386':
      architecture = '386';
      variant = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      architecture = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      architecture = 'arm64';
      if (variant === '8' || variant === 'v8' || variant === 'v8.0') variant = '';
      break;
    case 'armhf':
      architecture = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      architecture = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === '' || variant === '7') variant = 'v7';
      else if (variant === '5' || variant === '6' || variant === '8') variant = `v${variant}`;
      break;
  }
  return variant === '' ? { os: p.os.toLowerCase(), architecture } : { os: p.os.toLowerCase(), architecture, variant };
}

/** `os/arch[/variant]`, as containerd's platforms.Format. */
export function formatPlatform(p: TargetPlatform): string {
  return p.variant === undefined || p.variant === '' ? `${p.os}/${p.architecture}` : `${p.os}/${p.architecture}/${p.variant}`;
}

/** Whether two platforms are the same after normalisation. */
export function samePlatform(a: TargetPlatform, b: TargetPlatform): boolean {
  return formatPlatform(normalizePlatform(a)) === formatPlatform(normalizePlatform(b));
}

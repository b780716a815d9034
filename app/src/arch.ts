// CPU architecture names. The app answers in `uname -m` spelling (x86_64, aarch64), the spelling of the
// lab's seed material; Node reports its own (`process.arch`: x64, arm64), and Docker/Kubernetes a third
// (amd64, arm64).

/** `process.arch` values mapped to what `uname -m` prints on Linux for the same CPU. */
const UNAME_BY_NODE_ARCH: Readonly<Record<string, string>> = {
  x64: "x86_64",
  arm64: "aarch64",
  arm: "armv7l",
  ia32: "i686",
  // Node runs only on little-endian 64-bit POWER under Linux.
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loongarch64",
  mips: "mips",
  mipsel: "mips",
  mips64el: "mips64",
};

/** `uname -m` spelling of a `process.arch` value; an unknown value is returned unchanged. */
export function unameArch(nodeArch: string): string {
  return lookup(UNAME_BY_NODE_ARCH, nodeArch) ?? nodeArch;
}

/** Other spellings of the two lab architectures that an override may use. */
const ALIASES: Readonly<Record<string, string>> = {
  x86_64: "x86_64",
  amd64: "x86_64",
  x64: "x86_64",
  aarch64: "aarch64",
  arm64: "aarch64",
};

const OVERRIDE_SHAPE = /^[A-Za-z0-9_.-]{1,32}$/;

/**
 * Normalises an `APP_ARCH_OVERRIDE` value (for tests only). The two lab architectures are accepted in any
 * common spelling (amd64/x64/x86_64, arm64/aarch64) and answered in `uname -m` spelling; any other short
 * token is kept as given, so a test can also serve an architecture the traffic check must reject.
 * Returns undefined when the value is unset or blank; throws on a value that is not a plain token.
 */
export function normaliseArchOverride(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  if (!OVERRIDE_SHAPE.test(trimmed)) {
    throw new Error(
      `APP_ARCH_OVERRIDE must be a plain architecture name like aarch64, got ${JSON.stringify(value)}`,
    );
  }
  return lookup(ALIASES, trimmed.toLowerCase()) ?? trimmed;
}

/** Own-property lookup, so names like "constructor" never resolve to Object.prototype members. */
function lookup(table: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

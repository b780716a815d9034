/**
 * The one place secrets are taken out of what the driver writes: the JSON report, JUnit, the
 * per-lab logs, progress lines and notes, stdout and stderr. Two layers: known values (each
 * `--secret`, the passphrase, credentials found in a kubeconfig, registry passwords) wherever they
 * appear, and credential fields by name (`token:`, `client-key-data:`, `"password":`,
 * `Authorization: Bearer …`) whatever their value, for the ones nobody told us about.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LabLog } from "../lifecycle/types";
import { Display } from "./progress";

export const REDACTED = "[secret]";

/** Field names that hold credentials in kubeconfigs, Docker/registry auth and AWS settings. */
const FIELD_NAMES =
  "token|id-token|refresh-token|access-token|client-key-data|client-certificate-data|client-key|" +
  "password|auth|identitytoken|registrytoken|secretKey|secret_access_key|aws_secret_access_key|" +
  "aws_session_token|sessionToken";
const FIELD_KEY = new RegExp(`^(${FIELD_NAMES})$`, "i");
// `name: value`, `"name": "value"`, `name=value`; the value ends at whitespace, a quote, `,` or `}`.
// Not part of a longer name: `demo:token=…` is a config key, not a token field.
const FIELD = new RegExp(
  `(?<![\\w:.-])(["']?(?:${FIELD_NAMES})["']?\\s*[:=]\\s*)(["']?)([^\\s"',}]+)\\2`,
  "gi",
);
const AUTH_HEADER = /\b(authorization\s*[:=]\s*["']?(?:bearer|basic)\s+)([^\s"',}]+)/gi;

const readIfPresent = (file: string | undefined): string | undefined => {
  try {
    return file ? fs.readFileSync(file, "utf8") : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Shorter values are not redacted: replacing every "e2e" or "lab" would mangle stack names and
 * output beyond use while hiding nothing a guess would not find. Real secrets are longer; a
 * generated passphrase is 32 characters.
 */
export const MIN_REDACTED_LENGTH = 6;

export class Redactor {
  private readonly values = new Set<string>();

  /** Values redacted wherever they appear (and their JSON-escaped forms); see MIN_REDACTED_LENGTH. */
  add(...values: (string | undefined)[]): this {
    for (const v of values) if (v !== undefined && v.trim().length >= MIN_REDACTED_LENGTH) this.put(v);
    return this;
  }

  /** A value known to be a credential by its field (token:, password:): redacted at any length. */
  private put(...values: (string | undefined)[]): this {
    for (const v of values) {
      if (v === undefined || v.trim() === "") continue;
      this.values.add(v);
      if (v.trim() !== v) this.values.add(v.trim());
      const escaped = JSON.stringify(v).slice(1, -1);
      if (escaped !== v) this.values.add(escaped);
    }
    return this;
  }

  /** The credentials of a kubeconfig (YAML or JSON): token, client key and certificate data… */
  addKubeconfig(text: string | undefined): this {
    if (!text) return this;
    for (const m of text.matchAll(FIELD)) this.put(m[3]);
    for (const m of text.matchAll(AUTH_HEADER)) this.put(m[2]);
    return this;
  }

  /** The credentials of the kubeconfig file `file` (none when it cannot be read). */
  addKubeconfigFile(file: string | undefined): this {
    return this.addKubeconfig(readIfPresent(file));
  }

  /** A registry login: the password, and the base64 `user:password` Docker puts in `auth`. */
  addRegistry(login: { username?: string; password?: string } | undefined): this {
    if (!login?.password) return this;
    this.put(login.password, Buffer.from(`${login.username ?? ""}:${login.password}`).toString("base64"));
    return this;
  }

  text(s: string): string {
    // Longest first, so that a value containing another is replaced whole.
    let out = s;
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) out = out.split(v).join(REDACTED);
    out = out.replace(FIELD, (_m, lead: string, q: string, v: string) =>
      v === REDACTED ? `${lead}${q}${v}${q}` : `${lead}${q}${REDACTED}${q}`,
    );
    return out.replace(AUTH_HEADER, (_m, lead: string) => `${lead}${REDACTED}`);
  }

  /** A deep copy of `v` with every string redacted, and credential fields' values replaced. */
  value<T>(v: T): T {
    const walk = (x: unknown, key?: string): unknown => {
      if (typeof x === "string") return key !== undefined && FIELD_KEY.test(key) ? REDACTED : this.text(x);
      if (Array.isArray(x)) return x.map((e) => walk(e));
      if (x instanceof Date) return x;
      if (x !== null && typeof x === "object")
        return Object.fromEntries(Object.entries(x).map(([k, e]) => [k, walk(e, k)]));
      return x;
    };
    return walk(v) as T;
  }
}

/**
 * The redactor of one command: its `--secret` values, the state passphrase (from the environment,
 * the passphrase file it names, or the project's generated one), and a kubeconfig it names.
 */
export function runRedactor(o: {
  env: NodeJS.ProcessEnv;
  projectDir: string;
  secrets?: Record<string, string>;
  kubeconfigFile?: string;
}): Redactor {
  const r = new Redactor().add(...Object.values(o.secrets ?? {}));
  r.add(o.env.PULUMI_CONFIG_PASSPHRASE, readIfPresent(o.env.PULUMI_CONFIG_PASSPHRASE_FILE));
  r.add(readIfPresent(path.join(o.projectDir, ".lab-state", "passphrase")));
  r.addKubeconfigFile(o.kubeconfigFile ?? o.env.LAB_KUBECONFIG);
  return r;
}

/**
 * A log that writes redacted whole lines: a value split across two engine output chunks would pass
 * a per-chunk redaction, so a partial line waits for its end (or the close).
 */
export function redactedLog(log: LabLog, r: Redactor): LabLog {
  let pending = "";
  return {
    path: log.path,
    write: (text) => {
      const all = pending + text;
      const cut = all.lastIndexOf("\n") + 1;
      pending = all.slice(cut);
      if (cut > 0) log.write(r.text(all.slice(0, cut)));
    },
    close: async () => {
      if (pending !== "") log.write(r.text(pending));
      pending = "";
      await log.close();
    },
  };
}

/** The driver's output of one command (stdout, stderr, per-lab logs), redacted by `r`. */
export function redactedOutput<
  T extends { out: (t: string) => void; err: (t: string) => void; openLog: (stack: string) => LabLog },
>(d: T, r: Redactor): T {
  return {
    ...d,
    out: (t: string) => d.out(r.text(t)),
    err: (t: string) => d.err(r.text(t)),
    openLog: (stack: string) => redactedLog(d.openLog(stack), r),
  };
}

/** The progress display with its free text (phase details, notes, messages) redacted by `r`. */
export function redactedDisplay(ui: Display, r: Redactor): Display {
  return {
    phase: (a, p, detail) => ui.phase(a, p, detail === undefined ? undefined : r.text(detail)),
    resources: (a, done, total) => ui.resources(a, done, total),
    note: (a, t) => ui.note(a, r.text(t)),
    say: (t) => ui.say(r.text(t)),
    stop: () => ui.stop(),
  };
}

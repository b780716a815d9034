/**
 * What the lab needs to know about a Dockerfile, read from its text (pure functions, no Docker): the
 * build args it declares (so the lab passes only those), each stage's FROM image and platform, and the
 * RUN steps that would execute under emulation (stages built for the target platform rather than on
 * `--platform=$BUILDPLATFORM`). Covers the syntax that matters here: line continuations, the
 * `# escape=` directive, comments, heredocs, `ARG a=1 b=2`, `FROM --platform=… image AS name`,
 * `COPY --from=…` and `RUN --mount=…,from=…`.
 */

export interface Stage {
  /** 0-based position. */
  index: number;
  /** `AS <name>`, lowercased (stage names are case-insensitive). */
  name?: string;
  /** The FROM image text as written (may hold `${ARG}`). */
  from: string;
  /** The `--platform=` value as written, if any. */
  platform?: string;
  /** 1-based line of the FROM. */
  line: number;
  /** Number of RUN instructions. */
  runs: number;
  /** Other stages (name or index, as written) this one copies or mounts from. */
  uses: string[];
}

export interface DockerfileInfo {
  /** ARGs before the first FROM (the only ones FROM lines can use), with their defaults. */
  globalArgs: Record<string, string | undefined>;
  /** Every ARG name declared anywhere. */
  declared: string[];
  stages: Stage[];
}

interface Instruction {
  keyword: string;
  rest: string;
  line: number;
}

/** The Dockerfile's instructions: continuations joined, comments and heredoc bodies dropped. */
function instructions(text: string): Instruction[] {
  const lines = text.split(/\r?\n/);
  let escape = "\\";
  // Parser directives: `# key=value` lines at the very top.
  for (const l of lines) {
    const m = /^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(l);
    if (!m) break;
    if (m[1].toLowerCase() === "escape") escape = m[2];
  }
  const out: Instruction[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (/^\s*(#|$)/.test(lines[i])) continue;
    const start = i + 1;
    let logical = "";
    let line = lines[i];
    for (;;) {
      const trimmed = line.replace(/\s+$/, "");
      if (trimmed.endsWith(escape) && i + 1 < lines.length) {
        logical += trimmed.slice(0, -escape.length) + " ";
        i++;
        while (i < lines.length && /^\s*#/.test(lines[i])) i++; // comments inside a continuation
        line = lines[i] ?? "";
      } else {
        logical += line;
        break;
      }
    }
    const m = /^\s*(\S+)\s*(.*)$/.exec(logical);
    if (!m) continue;
    out.push({ keyword: m[1].toUpperCase(), rest: m[2], line: start });
    // Heredocs (`RUN <<EOF` … `EOF`): skip their bodies, one per marker on the line.
    for (const h of m[2].matchAll(/<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g)) {
      const stripTabs = h[1] === "-";
      while (++i < lines.length) {
        const body = stripTabs ? lines[i].replace(/^\t+/, "") : lines[i];
        if (body === h[3]) break;
      }
    }
  }
  return out;
}

/** `--key=value` flags at the start of an instruction, and what follows them. */
function flags(rest: string): { flags: Record<string, string[]>; args: string[] } {
  const words = rest.split(/\s+/).filter(Boolean);
  const out: Record<string, string[]> = {};
  let i = 0;
  for (; i < words.length && words[i].startsWith("--"); i++) {
    const eq = words[i].indexOf("=");
    const key = (eq < 0 ? words[i].slice(2) : words[i].slice(2, eq)).toLowerCase();
    (out[key] ??= []).push(eq < 0 ? "" : words[i].slice(eq + 1));
  }
  return { flags: out, args: words.slice(i) };
}

/** `ARG a=1 b "c=2"`: names and defaults. */
function argDeclarations(rest: string): [string, string | undefined][] {
  return rest
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => w.replace(/^(["'])(.*)\1$/, "$2"))
    .map((w) => {
      const eq = w.indexOf("=");
      if (eq < 0) return [w, undefined];
      return [w.slice(0, eq), w.slice(eq + 1).replace(/^(["'])(.*)\1$/, "$2")];
    });
}

export function parseDockerfile(text: string): DockerfileInfo {
  const globalArgs: Record<string, string | undefined> = {};
  const declared: string[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions(text)) {
    const stage = stages[stages.length - 1];
    if (ins.keyword === "ARG") {
      for (const [name, value] of argDeclarations(ins.rest)) {
        if (!declared.includes(name)) declared.push(name);
        if (!stage) globalArgs[name] = value;
      }
    } else if (ins.keyword === "FROM") {
      const { flags: f, args } = flags(ins.rest);
      const as = args.length >= 3 && args[1].toLowerCase() === "as" ? args[2].toLowerCase() : undefined;
      stages.push({
        index: stages.length,
        name: as,
        from: args[0] ?? "",
        platform: f.platform?.[0],
        line: ins.line,
        runs: 0,
        uses: [],
      });
    } else if (stage && ins.keyword === "RUN") {
      stage.runs++;
      for (const mount of flags(ins.rest).flags.mount ?? []) {
        const from = /(?:^|,)from=([^,]+)/.exec(mount);
        if (from) stage.uses.push(from[1]);
      }
    } else if (stage && (ins.keyword === "COPY" || ins.keyword === "ADD")) {
      for (const from of flags(ins.rest).flags.from ?? []) stage.uses.push(from);
    }
  }
  return { globalArgs, declared, stages };
}

/** `${NAME}`, `$NAME`, `${NAME:-default}`, `${NAME-default}` with `vars`; unknown names become "". */
export function substitute(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_m, braced: string | undefined, colon: string | undefined, def: string | undefined, bare?: string) => {
      const v = vars[(braced ?? bare) as string];
      if (def !== undefined && (v === undefined || (colon === ":" && v === ""))) return def;
      return v ?? "";
    },
  );
}

/** Where a stage runs: on the build machine, per target platform, or one fixed platform. */
export type StagePlatform = { kind: "build" } | { kind: "target" } | { kind: "fixed"; platform: string };

export interface ResolvedStage extends Stage {
  /** The image pulled, build args applied; undefined when the stage starts FROM another stage. */
  image?: string;
  /** The earlier stage it starts from. */
  base?: Stage;
  runsOn: StagePlatform;
}

/** Stages with their FROM image resolved (ARG defaults, then `buildArgs`) and where each runs. */
export function resolveStages(info: DockerfileInfo, buildArgs: Record<string, string> = {}): ResolvedStage[] {
  const vars = { ...info.globalArgs, ...buildArgs };
  const resolved: ResolvedStage[] = [];
  for (const s of info.stages) {
    const from = substitute(s.from, vars);
    const base = resolved.find((r) => r.name !== undefined && r.name === from.toLowerCase());
    const platform = s.platform === undefined ? undefined : substitute(s.platform, vars);
    let runsOn: StagePlatform;
    if (s.platform !== undefined && /BUILDPLATFORM/.test(s.platform)) runsOn = { kind: "build" };
    else if (s.platform !== undefined && !/TARGETPLATFORM/.test(s.platform) && platform)
      runsOn = { kind: "fixed", platform };
    else runsOn = base && s.platform === undefined ? base.runsOn : { kind: "target" };
    resolved.push({ ...s, image: base ? undefined : from, base, runsOn });
  }
  return resolved;
}

/** Stages the final stage needs (BuildKit builds no other): its base chain and what it copies from. */
export function neededStages(stages: ResolvedStage[]): ResolvedStage[] {
  const needed = new Set<number>();
  const visit = (s: ResolvedStage | undefined) => {
    if (!s || needed.has(s.index)) return;
    needed.add(s.index);
    if (s.base) visit(stages[s.base.index]);
    for (const ref of s.uses) {
      const byIndex = /^\d+$/.test(ref) ? stages[Number(ref)] : undefined;
      visit(byIndex ?? stages.find((x) => x.name === ref.toLowerCase()));
    }
  };
  visit(stages[stages.length - 1]);
  return stages.filter((s) => needed.has(s.index));
}

/** Build args of `candidates` that the Dockerfile declares (undefined when none). */
export function declaredBuildArgs(
  info: DockerfileInfo,
  candidates: Record<string, string> | undefined,
): Record<string, string> | undefined {
  const args = Object.entries(candidates ?? {}).filter(([k]) => info.declared.includes(k));
  return args.length > 0 ? Object.fromEntries(args) : undefined;
}

/** `linux/arm64/v8` and `linux/arm64` are the same machine for emulation purposes. */
const machine = (p: string) => p.replace(/^(linux\/arm64)\/v8$/, "$1");

export interface EmulatedStage {
  stage: ResolvedStage;
  /** Platforms whose variant of this stage runs its RUN steps under emulation. */
  platforms: string[];
}

/** Needed stages with RUN steps that run under emulation on a `builder` machine building `platforms`. */
export function emulatedRuns(stages: ResolvedStage[], platforms: string[], builder: string): EmulatedStage[] {
  const out: EmulatedStage[] = [];
  for (const stage of neededStages(stages)) {
    if (stage.runs === 0 || stage.runsOn.kind === "build") continue;
    const on = stage.runsOn.kind === "fixed" ? [stage.runsOn.platform] : platforms;
    const emulated = on.filter((p) => machine(p) !== machine(builder));
    if (emulated.length > 0) out.push({ stage, platforms: emulated });
  }
  return out;
}

const stageLabel = (s: Stage) => (s.name ? `"${s.name}"` : `#${s.index + 1}`) + ` (line ${s.line})`;

/** The preview's warning for emulated RUN steps, or undefined when there are none. */
export function emulationWarning(
  dockerfile: string,
  emulated: EmulatedStage[],
  builder: string,
): string | undefined {
  if (emulated.length === 0) return undefined;
  const runs = emulated.reduce((n, e) => n + e.stage.runs, 0);
  const platforms = [...new Set(emulated.flatMap((e) => e.platforms))].join(", ");
  return (
    `${dockerfile}: ${runs} RUN step(s) in stage ${emulated.map((e) => stageLabel(e.stage)).join(", ")} ` +
    `run for each target platform, so this ${builder} builder runs them under QEMU emulation for ` +
    `${platforms} (slow, often 5-20x). The fast way: do the work in a stage FROM --platform=$BUILDPLATFORM ` +
    `(cross-compile or build platform-neutral output) and only COPY it into the final stage; see docs/APP.md, ` +
    `"Your own service".`
  );
}

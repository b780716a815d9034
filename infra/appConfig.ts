/**
 * The app keys of the lab's configuration: which service runs (a build context with a Dockerfile, or a
 * prebuilt image), its port, probes, environment, and what verify requests and expects. The bundled
 * hello app (`app/`) is simply these keys' defaults. Plain functions, no Pulumi calls: infra/config.ts's
 * `parseLabConfig` applies them for the stack and the driver alike.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The project root (where Pulumi.yaml is): a relative lab:appDir is taken from here. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

export interface AppConfig {
  /** Build context, as given: relative to the project root, or absolute (unused with `image`). */
  appDir: string;
  /** The Dockerfile, relative to `appDir`. */
  dockerfile: string;
  /** A prebuilt image reference to deploy as is (no build); "" builds `appDir`. */
  image: string;
  /** The port the container listens on (also passed as `PORT`). */
  appPort: number;
  /** Path of the readiness probe (HTTP GET on appPort must answer 2xx/3xx when ready). */
  healthPath: string;
  /** Path verify requests through the Service. */
  checkPath: string;
  /** HTTP status checkPath must answer. */
  expectStatus: number;
  /** Regular expression (source) the body of checkPath must match; "" means no body check. */
  expectBody: string;
  /** Field of checkPath's JSON answer that says the CPU (`arch`, `goarch`); "" when it says none. */
  archField: string;
  /** Extra container environment, in order; an entry replaces a built-in of the same name (PORT). */
  appEnv: Record<string, string>;
}

export const APP_DEFAULTS = {
  appDir: "app",
  dockerfile: "Dockerfile",
  image: "",
  appPort: 8080,
  healthPath: "/healthz",
  checkPath: "/hello",
  expectStatus: 200,
  expectBody: "",
  archField: "arch",
  appEnv: "",
};

export type AppKey = keyof typeof APP_DEFAULTS;

// Docker's reference grammar (distribution/reference): [host[:port]/]path[:tag][@digest].
const DOMAIN_PART = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_PART}(?:\\.${DOMAIN_PART})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_PART = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const NAME = `(?:${DOMAIN}/)?${PATH_PART}(?:/${PATH_PART})*`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const IMAGE_REFERENCE = new RegExp(`^(${NAME})(?::${TAG})?(?:@${DIGEST})?$`);

/** Whether `ref` is a Docker image reference such as `ghcr.io/acme/api:1.2` or `nginx@sha256:…`. */
export function isImageReference(ref: string): boolean {
  const m = IMAGE_REFERENCE.exec(ref);
  return m !== null && m[1].length <= 255;
}

/** The registry host of a reference (`docker.io` when it names none, as Docker resolves it). */
export function registryOf(ref: string): string {
  const first = ref.split("/")[0];
  const hasHost = ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  return hasHost ? first : "docker.io";
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `KEY=VALUE` entries: one per line when the text has newlines (values may then hold commas), else comma-separated. */
export function parseAppEnv(text: string, problems: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  const entries = (/\r?\n/.test(text) ? text.split(/\r?\n/) : text.split(","))
    .map((e) => e.trim())
    .filter((e) => e !== "");
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    if (eq <= 0) {
      problems.push(
        `lab:appEnv entry "${entry}" is not KEY=VALUE: write e.g. GREETING=hi,LOG_LEVEL=debug (one per line if a value has a comma)`,
      );
      continue;
    }
    const name = entry.slice(0, eq).trim();
    if (!ENV_NAME.test(name)) {
      problems.push(
        `lab:appEnv name "${name}" is not an environment variable name: use letters, digits and '_', not starting with a digit`,
      );
    } else if (name in env) {
      problems.push(`lab:appEnv sets ${name} twice: keep one ${name}=… entry`);
    } else env[name] = entry.slice(eq + 1);
  }
  return env;
}

function port(value: string, problems: string[]): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 65535) {
    problems.push(`lab:appPort "${value}" is not a TCP port: give the container's port, 1-65535 (e.g. 8080)`);
  }
  return n;
}

function httpPath(key: "healthPath" | "checkPath", value: string, problems: string[]): string {
  if (!value.startsWith("/") || /[\s?#]/.test(value)) {
    const example = key === "healthPath" ? "/healthz" : "/hello";
    problems.push(
      `lab:${key} "${value}" is not a URL path: start it with '/', no spaces, query or fragment (e.g. ${example})`,
    );
  }
  return value;
}

function status(value: string, problems: string[]): number {
  const n = Number(value);
  if (!/^\d{3}$/.test(value.trim()) || n < 100 || n > 599) {
    problems.push(`lab:expectStatus "${value}" is not an HTTP status: give 100-599 (e.g. 200)`);
  }
  return n;
}

function regexp(value: string, problems: string[]): string {
  try {
    new RegExp(value);
  } catch (e) {
    problems.push(
      `lab:expectBody "${value}" is not a regular expression (${(e as Error).message}): ` +
        `fix it, or escape special characters with '\\' to match them literally`,
    );
  }
  return value;
}

// A top-level JSON field, named as Go, Node and Python services name them.
function fieldName(value: string, problems: string[]): string {
  if (value !== "" && !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(value)) {
    problems.push(
      `lab:archField "${value}" is not a plain field name of the JSON answer: letters, digits and '_' ` +
        `(e.g. arch, goarch), or empty when the answer does not say its architecture`,
    );
  }
  return value;
}

/** Whether `inner` is `outer` or inside it. */
function within(outer: string, inner: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

function buildContext(appDir: string, dockerfile: string, problems: string[]): void {
  const dir = path.resolve(PROJECT_ROOT, appDir);
  const stat = fs.statSync(dir, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) {
    problems.push(
      `lab:appDir "${appDir}" ${stat ? "is not a directory" : "does not exist"} (${dir}): give your service's ` +
        `build context, relative to the project root or absolute (e.g. examples/greeter)`,
    );
    return;
  }
  const file = path.resolve(dir, dockerfile);
  if (path.isAbsolute(dockerfile) || !within(dir, file)) {
    problems.push(
      `lab:dockerfile "${dockerfile}" is outside lab:appDir: give the Dockerfile's path inside ${appDir} (e.g. Dockerfile)`,
    );
  } else if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) {
    problems.push(
      `lab:dockerfile "${dockerfile}" is not a file in lab:appDir (${file}): add it, or set lab:dockerfile ` +
        `to the Dockerfile's path inside ${appDir}`,
    );
  }
}

/**
 * Validates the app keys and applies their defaults; problems go to `problems`. `raw` holds the values
 * as given ("" or undefined: the default), so lab:image can be exclusive with an explicit lab:appDir.
 */
export function parseAppConfig(raw: Partial<Record<AppKey, string>>, problems: string[]): AppConfig {
  // Pulumi.yaml declares each key's default, and the engine hands the program that default as if it
  // were set: a value equal to the default counts as not given (else lab:image could never be used).
  const given = (k: AppKey) => raw[k] !== undefined && raw[k] !== "" && raw[k] !== String(APP_DEFAULTS[k]);
  const get = (k: AppKey): string => (given(k) ? (raw[k] as string) : String(APP_DEFAULTS[k]));
  const image = get("image").trim();
  const appDir = get("appDir");
  const dockerfile = get("dockerfile");
  if (image !== "") {
    if (!isImageReference(image)) {
      problems.push(
        `lab:image "${image}" is not an image reference: use [registry/]name[:tag][@sha256:digest] in ` +
          `lowercase (e.g. ghcr.io/acme/api:1.2)`,
      );
    }
    for (const k of ["appDir", "dockerfile"] as const) {
      if (given(k)) {
        problems.push(
          `lab:image and lab:${k} are exclusive: lab:image deploys a prebuilt image without a build; ` +
            `unset lab:${k}, or unset lab:image to build ${k === "appDir" ? appDir : dockerfile}`,
        );
      }
    }
  } else {
    buildContext(appDir, dockerfile, problems);
  }
  return {
    appDir,
    dockerfile,
    image,
    appPort: port(get("appPort"), problems),
    healthPath: httpPath("healthPath", get("healthPath"), problems),
    checkPath: httpPath("checkPath", get("checkPath"), problems),
    expectStatus: status(get("expectStatus"), problems),
    expectBody: regexp(get("expectBody"), problems),
    // Unlike the other keys, "" is a value here: the answer says no architecture.
    archField: fieldName(raw.archField ?? APP_DEFAULTS.archField, problems),
    appEnv: parseAppEnv(get("appEnv"), problems),
  };
}

/** The Automation API's typed errors, each turned into one clear line (STYLE habit 8). */
import {
  CommandError,
  ConcurrentUpdateError,
  StackAlreadyExistsError,
  StackNotFoundError,
} from "@pulumi/pulumi/automation";
import { StackMissingError } from "./engine";
import { errorMessage } from "../errors";

/**
 * The lines of a CLI error worth showing: Pulumi's `error:` lines, each with the `- …` list that
 * follows it (the program's config problems come as such a list), once each; else the first lines.
 */
export function essence(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const errors: string[] = [];
  lines.forEach((l, i) => {
    if (!/^error:/i.test(l)) return;
    let entry = l.replace(/^error:\s*/i, "");
    for (let j = i + 1; j < lines.length && lines[j].startsWith("- "); j++) entry += ` ${lines[j]}`;
    if (!errors.includes(entry)) errors.push(entry);
  });
  // The CLI repeats a diagnostic's first line without its list (the progress line): keep the whole.
  const whole = errors.filter((e) => !errors.some((o) => o !== e && o.startsWith(e)));
  const chosen = whole.length > 0 ? whole : lines.slice(0, 2);
  const joined = chosen.join(" | ");
  return joined.length > 1000 ? `${joined.slice(0, 1000)}…` : joined;
}

/**
 * BuildKit could not pull a FROM image ("failed to resolve source metadata for <image>: …"): name the
 * image, the platform when BuildKit says it, and how to provide it. Undefined for other failures.
 * (The local target checks its local-registry images before the build: infra/baseImages.ts.)
 */
export function pullFailureHint(text: string): string | undefined {
  const m = /failed to resolve source metadata for (\S+?):\s/.exec(text);
  if (!m) return undefined;
  const platform = /\[(linux\/[a-z0-9]+(?:\/v\d)?)[^\]]*\]/.exec(text)?.[1];
  const noVariant = /no match for platform in manifest/.test(text);
  return (
    `the image build could not pull ${m[1]}${platform ? ` for ${platform}` : ""}` +
    (noVariant ? " (it has no variant for one of the platforms being built, lab:platforms)" : "") +
    `: make it pullable from the build machine (\`docker login\` for a private registry; a multi-arch ` +
    `image), or, offline, push it to the local registry (\`npm run setup:local\` pushes the Node.js ` +
    `images; \`skopeo copy --all\` others) and set lab:baseImage / lab:buildImage, which the lab passes ` +
    `when the Dockerfile declares ARG BASE_IMAGE / BUILD_IMAGE`
  );
}

export function explain(e: unknown, stack: string): string {
  if (e instanceof ConcurrentUpdateError) {
    return (
      `stack ${stack} is locked by another update. If no other run is active, a crashed run left the lock: ` +
      `\`pulumi cancel --stack ${stack}\` (Pulumi Cloud) or remove the lock under .lab-state/.pulumi/locks, then refresh`
    );
  }
  if (e instanceof StackNotFoundError || e instanceof StackMissingError)
    return `stack ${stack} does not exist`;
  if (e instanceof StackAlreadyExistsError) return `stack ${stack} already exists`;
  if (e instanceof CommandError) {
    const hint = pullFailureHint(e.message);
    const text = essence(e.message.replace(/^code: -?\d+\s*/m, ""));
    return hint ? `${text} | ${hint}` : text;
  }
  return errorMessage(e);
}

/**
 * `lab handout --attendees … --out <dir>` (#10 point 4): one folder per attendee with what they
 * need to use their lab: the service URL, a kubeconfig and a short README. In `shared-cluster` (and
 * on the local target) the kubeconfig is the lab's namespace-scoped one (`handoutKubeconfig`); a
 * dedicated lab hands out its own cluster's. Kubeconfigs are written 0600 in 0700 folders: they are
 * credentials.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Command as Commander } from "commander";
import { DEFAULTS, Target } from "../../infra/config";
import { parseOutputs } from "../lifecycle/outputs";
import { stackName } from "../lifecycle/runner";
import { privateDir } from "../lifecycle/state";
import { existingEngine } from "./engines";
import { EXIT, usageError } from "./exit";
import { CliDeps } from "./types";
import * as v from "./validate";
import { errorMessage } from "../errors";

export interface HandoutOptions extends v.RawOptions {
  out?: string;
}

function readme(
  attendee: string,
  url: string | undefined,
  namespace: string | undefined,
  scoped: boolean,
): string {
  return [
    `# Your lab, ${attendee}`,
    "",
    url ? `Your service: ${url}` : "Your service has no URL yet (its load balancer may still be starting).",
    "",
    "Use your cluster with the kubeconfig beside this file:",
    "",
    "```sh",
    "export KUBECONFIG=$PWD/kubeconfig",
    `kubectl get pods -o wide${namespace ? ` -n ${namespace}` : ""}   # each pod, and the node (and its architecture) it runs on`,
    "kubectl get nodes -L kubernetes.io/arch",
    "```",
    "",
    scoped
      ? `This kubeconfig can act only in your namespace ${namespace}; other namespaces refuse it.`
      : "This kubeconfig administers your own cluster.",
    "",
  ].join("\n");
}

export async function handoutCommand(o: HandoutOptions, d: CliDeps): Promise<number> {
  const problems = new v.Problems();
  const names = v.attendees(o, problems);
  const prefix = v.stackPrefix(o.stackPrefix, problems);
  v.backend(o.backend, problems);
  if (!o.out) problems.add("--out <dir> is required: where the attendees' folders go");
  if (problems.list.length > 0 || !o.out) return usageError(d, "handout", problems.list);
  const stacks = names.map((n) => stackName(prefix, n));
  const given = o.target as Target | undefined;
  const routed = await existingEngine(d, "handout", o, stacks, given, DEFAULTS.target as Target);
  if (typeof routed === "number") return routed;
  if (routed.problems.length > 0) return usageError(d, "handout", routed.problems);
  privateDir(o.out);
  let failed = 0;
  for (const attendee of names) {
    const stack = stackName(prefix, attendee);
    try {
      await routed.engine.prepare(stack, {}, false);
      const out = parseOutputs(await routed.engine.outputs(stack));
      const kubeconfig = out.handoutKubeconfig ?? out.kubeconfig;
      if (!kubeconfig) throw new Error("the stack has no kubeconfig output: run `lab up` for it first");
      const dir = path.join(o.out, attendee);
      privateDir(dir);
      fs.writeFileSync(path.join(dir, "kubeconfig"), kubeconfig, { mode: 0o600 });
      fs.chmodSync(path.join(dir, "kubeconfig"), 0o600);
      fs.writeFileSync(
        path.join(dir, "README.md"),
        readme(attendee, out.serviceUrl, out.namespace, !!out.handoutKubeconfig),
      );
      d.out(
        `${attendee}: ${dir} (${out.handoutKubeconfig ? `namespace ${out.namespace} only` : "cluster admin"})`,
      );
    } catch (e) {
      failed++;
      d.err(`${attendee}: no hand-out: ${errorMessage(e)}`);
    }
  }
  d.out(`${names.length - failed} of ${names.length} hand-outs written to ${o.out}`);
  return failed === 0 ? EXIT.ok : EXIT.failed;
}

export function registerHandout(program: Commander, d: CliDeps, setCode: (c: number) => void): void {
  program
    .command("handout")
    .description("write one folder per attendee: service URL, kubeconfig and a short README")
    .option(
      "--attendees <names>",
      "comma-separated attendee names (repeatable)",
      (x: string, p: string[] = []) => [...p, x],
    )
    .option("--attendees-file <file>", "attendee names, one per line")
    .option("--out <dir>", "where the folders go (created 0700; kubeconfigs 0600)")
    .option("--stack-prefix <prefix>", "the workshop: its stack prefix (default lab)")
    .option("--backend <url>", "Pulumi backend URL (default file://<project>/.lab-state)")
    .option("--target <target>", "aws or local, for stacks that do not record it")
    .option("--no-aws-check", "skip the local AWS credentials check")
    .addHelpText(
      "after",
      `
Examples:
  $ npm run lab -- handout --attendees-file attendees.txt --out handouts/
  $ npm run lab -- handout --attendees alice --stack-prefix ws2025 --out /tmp/alice`,
    )
    .action(async (o: HandoutOptions) => setCode(await handoutCommand(o, d)));
}

/**
 * `lab audit`: which images the pods of a cluster run, whether each image has every platform its
 * pods run on or can be scheduled on, and a verdict per workload. The cluster comes from
 * `--kubeconfig <file>`, or from the `kubeconfig` output of each lab stack (`--attendees`).
 * Exit 0 all ok, 1 anything at risk, broken, unknown or a cluster unread, 2 bad input.
 */
import { Command as Commander } from "commander";
import * as fs from "node:fs";
import { auditCluster } from "../audit";
import { ClusterReader, kubeconfigProblem, readCluster } from "../audit/cluster";
import { CredentialDeps, credentialResolver } from "../audit/credentials";
import { ManifestDeps } from "../audit/manifest";
import { auditReport, auditTable, countsLine } from "../audit/report";
import { ClusterAudit, emptyCounts } from "../audit/types";
import { explain } from "../lifecycle/errors";
import { parseOutputs } from "../lifecycle/outputs";
import { stackName } from "../lifecycle/runner";
import { usage } from "./awsIo";
import { writeJson } from "../reports/report";
import { EXIT } from "./exit";
import { CliDeps } from "./types";
import { targetEngine } from "./engines";
import * as v from "./validate";

export interface AuditOptions extends v.RawOptions {
  kubeconfig?: string;
  namespace?: string;
}

/** The command's seams: the cluster reader and the registry calls (the real ones by default). */
export interface AuditDeps extends CliDeps {
  readCluster?: ClusterReader;
  fetchManifest?: ManifestDeps["fetchManifest"];
  fetchBlob?: ManifestDeps["fetchBlob"];
  ecrToken?: CredentialDeps["ecrToken"];
  helper?: CredentialDeps["helper"];
}

interface Target {
  source: string;
  kubeconfig?: string;
  error?: string;
}

/** `--kubeconfig`'s text, or a problem naming the file and the fix. */
async function kubeconfigFile(file: string, problems: v.Problems): Promise<string | undefined> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    problems.add(
      `--kubeconfig ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? e}): pass the path of a kubeconfig file`,
    );
    return undefined;
  }
  const problem = await kubeconfigProblem(text);
  if (problem) problems.add(`--kubeconfig ${file} ${problem}`);
  return problem ? undefined : text;
}

/** Each lab stack's `kubeconfig` output; stacks sharing one cluster are audited once. */
async function stackTargets(
  o: AuditOptions,
  d: AuditDeps,
  names: string[],
  prefix: string,
): Promise<Target[] | number> {
  const engine = await targetEngine(d, "audit", o, undefined);
  if (typeof engine === "number") return engine;
  const byConfig = new Map<string, string[]>();
  const targets: Target[] = [];
  for (const name of names) {
    const stack = stackName(prefix, name);
    try {
      await engine.prepare(stack, {}, false);
      const out = parseOutputs(await engine.outputs(stack));
      if (!out.kubeconfig) {
        targets.push({
          source: `stack ${stack}`,
          error: "the stack has no kubeconfig output (no cluster: not up, or a local lab without one)",
        });
        continue;
      }
      byConfig.set(out.kubeconfig, [...(byConfig.get(out.kubeconfig) ?? []), stack]);
    } catch (e) {
      targets.push({ source: `stack ${stack}`, error: explain(e, stack) });
    }
  }
  for (const [kubeconfig, stacks] of byConfig) {
    targets.push({ source: `stack${stacks.length > 1 ? "s" : ""} ${stacks.join(", ")}`, kubeconfig });
  }
  return targets;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export async function auditCommand(o: AuditOptions, d: AuditDeps): Promise<number> {
  const problems = new v.Problems();
  const byStacks = o.attendees !== undefined || o.attendeesFile !== undefined;
  if (o.kubeconfig === undefined && !byStacks)
    problems.add(
      "which cluster? pass --kubeconfig <file>, or --attendees <names> for the lab stacks' clusters",
    );
  if (o.kubeconfig !== undefined && byStacks)
    problems.add("--kubeconfig and --attendees/--attendees-file name the cluster twice: pass one");
  if (o.namespace !== undefined && !NAMESPACE.test(o.namespace))
    problems.add(
      `--namespace "${o.namespace}" is not a Kubernetes namespace name (lowercase DNS-1123 label)`,
    );
  const names = byStacks ? v.attendees(o, problems) : [];
  const prefix = v.stackPrefix(o.stackPrefix, problems);
  v.backend(o.backend, problems);
  const text =
    o.kubeconfig !== undefined && !byStacks ? await kubeconfigFile(o.kubeconfig, problems) : undefined;
  if (problems.list.length > 0) return usage(d, "audit", problems.list);

  let targets: Target[];
  if (text !== undefined) targets = [{ source: o.kubeconfig as string, kubeconfig: text }];
  else {
    const got = await stackTargets(o, d, names, prefix);
    if (typeof got === "number") return got;
    targets = got;
  }
  const credentialsFor = credentialResolver({ env: d.env, ecrToken: d.ecrToken, helper: d.helper });
  const audits: ClusterAudit[] = [];
  for (const t of targets) {
    const empty = {
      source: t.source,
      namespace: o.namespace,
      nodes: [],
      images: [],
      workloads: [],
      counts: emptyCounts(),
    };
    if (!t.kubeconfig) {
      audits.push({ ...empty, error: t.error });
      continue;
    }
    let lists;
    try {
      lists = await (d.readCluster ?? readCluster)(t.kubeconfig, o.namespace);
    } catch (e) {
      audits.push({ ...empty, error: `the cluster did not answer: ${(e as Error).message ?? e}` });
      continue;
    }
    audits.push(
      await auditCluster(t.source, lists, {
        credentialsFor,
        fetchManifest: d.fetchManifest,
        fetchBlob: d.fetchBlob,
        namespace: o.namespace,
      }),
    );
  }
  for (const a of audits) d.out(auditTable(a));
  const report = auditReport(audits, new Date(d.now()));
  if (audits.length > 1) d.out(`all clusters: ${countsLine(report.counts)}`);
  if (o.report) writeJson(o.report, report);
  return report.exitCode === EXIT.ok ? EXIT.ok : EXIT.failed;
}

export function registerAudit(program: Commander, d: AuditDeps, setCode: (c: number) => void): void {
  program
    .command("audit")
    .description(
      "list every image the cluster's pods run, its platforms, and whether each workload can land where the image lacks",
    )
    .option("--kubeconfig <file>", "the cluster to audit")
    .option(
      "--attendees <names>",
      "instead: the lab stacks' clusters (repeatable)",
      (x: string, p: string[] = []) => [...p, x],
    )
    .option("--attendees-file <file>", "instead: the lab stacks of these attendees, one per line")
    .option("--stack-prefix <prefix>", "stacks are named <prefix>-<attendee> (default lab)")
    .option("--backend <url>", "Pulumi backend URL (default file://<project>/.lab-state)")
    .option("--namespace <name>", "only the pods of this namespace (default: every namespace)")
    .option(
      "--report <file.json>",
      "write every image, manifest, workload, pod placement and verdict as JSON",
    )
    .addHelpText(
      "after",
      `
Verdicts: ok; at risk: a pod can be scheduled on an architecture the image lacks (by its node
selector, required node affinity and tolerations against the cluster's nodes); broken: a pod runs
there now; unknown: the registry could not be read (reported per image, the audit goes on).
Registries are read with a fresh ECR token for ECR, else the Docker config's credentials
($DOCKER_CONFIG/config.json: credHelpers, auths, credsStore), else anonymously.
Exit codes: 0 every workload ok, 1 anything at risk, broken or unknown (or a cluster unread), 2 bad input.
Examples:
  $ npm run lab -- audit --kubeconfig ~/.kube/config
  $ npm run lab -- audit --kubeconfig ~/.cache/multiarch-lab/kube/admin.kubeconfig --namespace lab-alice
  $ npm run lab -- audit --attendees alice,bob --report audit.json`,
    )
    .action(async (o: AuditOptions) => setCode(await auditCommand(o, d)));
}

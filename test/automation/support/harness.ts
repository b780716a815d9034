/** Runs the real CLI entry (`main`) in-process against a FakeEngine, capturing output and exits. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CliDeps } from "../../../automation/cli/types";
import { StateSettings } from "../../../automation/lifecycle/state";
import { Toolchain } from "../../../automation/local/toolchain";
import { VerifyOptions } from "../../../automation/verify";
import { main } from "../../../automation/cli/cli";
import { memoryLog } from "../../../automation/reports/logs";
import { SignalSource } from "../../../automation/lifecycle/types";
import { CheckResult } from "../../../automation/verify/types";
import { ClusterControl } from "../../../automation/local/cluster";
import { FakeEngine } from "./fakeEngine";

export class FakeSignals implements SignalSource {
  // Every subscriber hears each signal, as with process.on (the cluster guard and runAll overlap).
  private readonly handlers = new Set<(sig: string) => void>();
  on(handler: (sig: string) => void): () => void {
    const h = (sig: string) => handler(sig);
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }
  send(sig = "SIGINT"): void {
    for (const h of [...this.handlers]) h(sig);
  }
  get listening(): number {
    return this.handlers.size;
  }
}

export const passingChecks = (): CheckResult[] =>
  (["image", "nodes", "pods", "traffic"] as const).map((name) => ({
    name,
    status: "passed",
    summary: "ok",
    evidence: { fake: true },
  }));

export interface Run {
  code: number;
  out: string;
  err: string;
  engine: FakeEngine;
  exits: number[];
  verified: string[];
  projectDir: string;
  /** What the engine factory was given (backend, workspace env). */
  settings: StateSettings[];
}

export interface HarnessOptions {
  engine?: FakeEngine;
  /** One engine per factory call instead (e.g. by `s.target`); `Run.engine` is then the first. */
  engineFor?: (s: StateSettings) => FakeEngine;
  signals?: FakeSignals;
  env?: NodeJS.ProcessEnv;
  verify?: (serviceUrl: string | undefined) => Promise<CheckResult[]>;
  /** Use the real verifyLab (with these test seams) instead of the stand-in checks. */
  realVerify?: Partial<VerifyOptions>;
  /** The local toolchain as loaded at start. */
  toolchain?: Toolchain;
  /** The local cluster's nodes (lab:clusterArchs for the local target). */
  listNodes?: CliDeps["listNodes"];
  /** The lab's own local cluster (none unless given: tests never start a real one here). */
  localCluster?: ClusterControl;
  /** The per-lab logs (default: in memory). */
  openLog?: CliDeps["openLog"];
  /** Docker credentials for the ECR push (none unless given: tests never call AWS here). */
  registryLogin?: CliDeps["registryLogin"];
  /** The quota preflight before an aws up/run (none unless given: tests never call AWS here). */
  preflight?: CliDeps["preflight"];
  /** The sweep after each destroy (none unless given: tests never sweep a real system here). */
  sweepLab?: CliDeps["sweepLab"];
  /** Called as soon as main() started (e.g. to send signals). */
  during?: (engine: FakeEngine) => Promise<void>;
}

export const AWS_ENV = {
  AWS_ACCESS_KEY_ID: "AKIAFAKE",
  AWS_SECRET_ACCESS_KEY: "fake",
  AWS_REGION: "eu-west-1",
  HOME: "/nonexistent",
};

export async function runCli(argv: string[], o: HarnessOptions = {}): Promise<Run> {
  const engine = o.engine ?? new FakeEngine();
  const out: string[] = [];
  const err: string[] = [];
  const exits: number[] = [];
  const verified: string[] = [];
  const settings: StateSettings[] = [];
  const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-cli-"));
  const deps: Partial<CliDeps> = {
    projectDir,
    env: o.env ?? AWS_ENV,
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    tty: undefined,
    engineFactory: (s) => {
      settings.push(s);
      return o.engineFor ? o.engineFor(s) : engine;
    },
    verify: async (outputs) => {
      verified.push(outputs.serviceUrl ?? "");
      return o.verify ? o.verify(outputs.serviceUrl) : passingChecks();
    },
    toolchain: o.toolchain,
    listNodes: o.listNodes,
    localCluster: () => o.localCluster,
    openLog: o.openLog ?? ((stack) => memoryLog(`${stack}.log`)),
    registryLogin: o.registryLogin,
    sweepLab: o.sweepLab,
    preflight: o.preflight,
    signals: o.signals ?? new FakeSignals(),
    exit: (code) => {
      exits.push(code);
    },
    now: () => Date.now(),
    sleep: async () => undefined,
  };
  if (o.realVerify) {
    delete deps.verify;
    deps.verifyOptions = o.realVerify;
  }
  const running = main(argv, deps);
  if (o.during) await o.during(engine);
  const code = await running;
  return { code, out: out.join("\n"), err: err.join("\n"), engine, exits, verified, projectDir, settings };
}

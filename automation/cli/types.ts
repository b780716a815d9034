/** What every command of the CLI is given: its seams to the world (the tests' fakes replace them). */
import { LabEngine } from "../lifecycle/engine";
import { StateSettings } from "../lifecycle/state";
import { LabLog, SignalSource, VerifyFn } from "../lifecycle/types";
import { ClusterControl, NodeLister } from "../local/cluster";
import { Toolchain } from "../local/toolchain";
import { VerifyOptions } from "../verify";
import { PreflightFn } from "./autoPreflight";
import { LabSweeper } from "./sweeps";

/** The verify settings of a command line (--requests, --traffic-deadline, --[no-]variants). */
export interface VerifySettings {
  requests: number;
  trafficDeadlineMs: number;
  /** undefined: the default (variants only for the local target). */
  variants?: boolean;
}

export interface CliDeps {
  projectDir: string;
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
  /** The terminal for the live display; undefined → plain lines (CI). */
  tty?: NodeJS.WriteStream;
  engineFactory: (s: StateSettings) => LabEngine;
  /** The verify checks of one lab, with the command's verify settings. */
  verify: (...a: [...Parameters<VerifyFn>, VerifySettings]) => ReturnType<VerifyFn>;
  /** Test seam for `verify --url` (clock). */
  verifyOptions?: Partial<VerifyOptions>;
  openLog: (stack: string) => LabLog;
  signals: SignalSource;
  exit: (code: number) => void;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** The local toolchain file (env.json) as loaded at start; undefined when not loaded (tests). */
  toolchain?: Toolchain;
  /** Test seam: the nodes of the local cluster a kubeconfig file names. */
  listNodes?: NodeLister;
  /** The lab's own local cluster to start and stop; undefined: none (a joined cluster or aws). */
  localCluster?: () => ClusterControl | undefined;
  /** The quota preflight before an aws up/run (aws/preflight.ts); undefined: none (tests). */
  preflight?: PreflightFn;
  /** The sweep after each destroy (cli/sweeps.ts); undefined: none (tests). */
  sweepLab?: LabSweeper;
  /** Docker credentials for the engine's ECR push (automation/aws/ecrLogin.ts); undefined in tests. */
  registryLogin?: (region: string) => Promise<{ envVars: Record<string, string> }>;
}

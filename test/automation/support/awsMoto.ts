/**
 * moto (the AWS API emulator) in server mode on a free loopback port, for the preflight and sweep
 * tests: the real SDK over real HTTP, pointed at it through AWS_ENDPOINT_URL like any AWS tool.
 * Skipped with a note where moto_server is absent, except in CI (.ci/run installs it).
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { AwsClients, awsClients, closeClients } from "../../../automation/aws/clients";
import { freePort } from "./registry";

export const REGION = "us-east-1";

export interface Moto {
  endpoint: string;
  clients: AwsClients;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const ENV_KEYS = ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] as const;

function motoAvailable(): boolean {
  return spawnSync("moto_server", ["--help"], { encoding: "utf8" }).status === 0;
}

async function waitReady(endpoint: string, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (proc.exitCode !== null) throw new Error(`moto_server exited with ${proc.exitCode}`);
    try {
      const r = await fetch(`${endpoint}/moto-api/data.json`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("moto_server did not answer within 30 s");
}

/** For a suite's `before`: starts moto and points the SDK's environment at it (restored by stop). */
export async function startMoto(ctx: Mocha.Context): Promise<Moto> {
  if (!motoAvailable()) {
    if (process.env.CI)
      throw new Error("moto_server is not installed: .ci/run must pip install 'moto[server]'");
    console.log("    (skipped: moto_server not installed; `pip install 'moto[server]==5.2.5'`)");
    ctx.skip();
  }
  ctx.timeout(60_000);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const proc = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  await waitReady(endpoint, proc);
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: REGION,
  });
  const clients = awsClients(REGION);
  return {
    endpoint,
    clients,
    reset: async () => {
      await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
    },
    stop: async () => {
      closeClients(clients);
      for (const k of ENV_KEYS) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
    },
  };
}

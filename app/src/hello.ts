// The /hello answer: which CPU architecture, kernel, host and Kubernetes node served the request.
import os from "node:os";
import type { AppConfig } from "./config";
import { unameArch } from "./arch";

export const HELLO_MESSAGE = "Hello, there!";

export interface HelloBody {
  /** `uname -m` spelling: x86_64, aarch64, ... */
  arch: string;
  /** "process" when `arch` is the CPU this process runs on; "override" when APP_ARCH_OVERRIDE set it. */
  archSource: "process" | "override";
  message: string;
  /** "Linux <kernel release>". */
  os: string;
  hostname: string;
  /** Present only when Kubernetes provides them through the downward API. */
  node?: string;
  pod?: string;
  namespace?: string;
  version: string;
}

/** The facts about the machine that the answer reports; `systemFacts()` reads the real ones. */
export interface SystemFacts {
  /** `process.arch`. */
  nodeArch: string;
  /** `os.type()`: "Linux" on Linux. */
  osType: string;
  /** `os.release()`: the kernel release. */
  osRelease: string;
  hostname: string;
}

export function systemFacts(): SystemFacts {
  return { nodeArch: process.arch, osType: os.type(), osRelease: os.release(), hostname: os.hostname() };
}

/** Builds the /hello body. Pure: same config and facts, same answer. */
export function helloBody(config: AppConfig, facts: SystemFacts): HelloBody {
  return {
    arch: config.archOverride ?? unameArch(facts.nodeArch),
    archSource: config.archOverride === undefined ? "process" : "override",
    message: HELLO_MESSAGE,
    os: `${facts.osType} ${facts.osRelease}`,
    hostname: facts.hostname,
    ...(config.nodeName !== undefined ? { node: config.nodeName } : {}),
    ...(config.podName !== undefined ? { pod: config.podName } : {}),
    ...(config.podNamespace !== undefined ? { namespace: config.podNamespace } : {}),
    version: config.version,
  };
}

/** The engine's full output per lab, in `.lab-logs/<stack>.log` (appended across runs). */
import * as fs from "node:fs";
import * as path from "node:path";
import { LabLog } from "../lifecycle/types";

/** Where the per-lab logs go: `.lab-logs/` of the project. */
export const defaultLogDir = (projectDir: string): string => path.join(projectDir, ".lab-logs");

export function fileLog(dir: string, stack: string): LabLog {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${stack}.log`);
  const out = fs.createWriteStream(file, { flags: "a" });
  return {
    path: file,
    write: (text) => {
      out.write(text.endsWith("\n") ? text : `${text}\n`);
    },
    close: () => new Promise((resolve) => out.end(resolve)),
  };
}

/** In-memory log, for tests and `verify --url`. */
export function memoryLog(name = "memory"): LabLog & { text(): string } {
  const parts: string[] = [];
  return {
    path: name,
    write: (t) => {
      parts.push(t);
    },
    close: async () => undefined,
    text: () => parts.join(""),
  };
}

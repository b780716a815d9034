// What the example services' tests share: a server run as a real process, its first output line
// (where it says its port), and its end.
import { ChildProcess } from "child_process";
import * as readline from "readline";

/** The process's first stdout line. */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => readline.createInterface({ input: child.stdout! }).once("line", resolve));
}

/** Its exit code once it ends (after `signal`, when given). */
export function exitCode(child: ChildProcess, signal?: NodeJS.Signals): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (signal) child.kill(signal);
  return exited;
}

/** Turns Pulumi Outputs into plain values for assertions (the one Output helper of the tests). */
import * as pulumi from "@pulumi/pulumi";

/** Resolves an Output (or plain value) to its value. Secrets are unwrapped; use `isSecret` for the flag. */
export function valueOf<T>(input: pulumi.Input<T> | pulumi.Output<T>): Promise<T> {
  return new Promise<T>((resolve) => {
    pulumi.output(input).apply((v) => {
      resolve(v as T);
      return v;
    });
  });
}

/** Whether an Output is marked secret. */
export function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
  return pulumi.isSecret(output);
}

const SIG_KEY = "4dabf18193072939515e22adb298388d"; // rpc.specialSigKey
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"; // rpc.specialSecretSig

/** Whether a recorded resource input is a secret envelope (as the mock monitor receives it). */
export function isSecretInput(value: unknown): boolean {
  return (
    typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG
  );
}

/** A recorded resource input with every secret envelope replaced by its value. */
export function plain<T = unknown>(value: unknown): T {
  if (isSecretInput(value)) return plain((value as { value: unknown }).value);
  if (Array.isArray(value)) return value.map((v) => plain(v)) as T;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)])) as T;
  }
  return value as T;
}

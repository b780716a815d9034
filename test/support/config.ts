import assert from "node:assert/strict";
import { parseLabConfig, RawLabConfig } from "../../infra/config";
import { ConfigError } from "../../infra/configRules";

/** The smallest config the program accepts. */
export const validConfig: RawLabConfig = { attendee: "alice", region: "eu-west-1" };

/** The problems of a config that must be rejected (fails the test if it is accepted). */
export function problemsOf(raw: RawLabConfig): string[] {
  try {
    parseLabConfig(raw);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err.problems;
  }
  assert.fail(`config ${JSON.stringify(raw)} was accepted`);
}

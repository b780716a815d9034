#!/usr/bin/env node
// A stand-in `pulumi` CLI for the LocalLabEngine test: records each call (args, a few env vars,
// start/end times, stdin of `config set`) as a JSON line in $FAKE_PULUMI_LOG and keeps stacks as files in $FAKE_PULUMI_STATE.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const args = process.argv.slice(2).filter((a) => a !== "--non-interactive");
const state = process.env.FAKE_PULUMI_STATE;
const start = Date.now();
const record = (extra = {}) =>
  fs.appendFileSync(
    process.env.FAKE_PULUMI_LOG,
    JSON.stringify({
      args,
      start,
      end: Date.now(),
      backend: process.env.PULUMI_BACKEND_URL,
      passphrase: process.env.PULUMI_CONFIG_PASSPHRASE,
      skipUpdateCheck: process.env.PULUMI_SKIP_UPDATE_CHECK,
      ...extra,
    }) + "\n",
  );
const flag = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const stackFile = (name) => path.join(state, `${name}.json`);
const busy = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const cmd = args.slice(0, 2).join(" ");

if (args[0] === "version") {
  process.stdout.write("v3.270.0\n");
  process.exit(0);
}
busy(20); // long enough for concurrent calls to overlap if they are not serialized
if (cmd === "stack select") {
  const name = flag("--stack");
  record();
  if (!fs.existsSync(stackFile(name))) {
    process.stderr.write(`error: no stack named '${name}' found\n`);
    process.exit(255);
  }
} else if (cmd === "stack init") {
  fs.writeFileSync(stackFile(args[2]), JSON.stringify({ resources: 0 }));
  record();
} else if (cmd === "stack rm") {
  fs.rmSync(stackFile(args[args.length - 1]));
  record();
} else if (cmd === "stack ls") {
  record();
  const stacks = fs.readdirSync(state).map((f) => ({
    name: f.replace(/\.json$/, ""),
    current: false,
    resourceCount: 7,
    lastUpdate: "2026-01-02T03:04:05.000Z",
  }));
  process.stdout.write(JSON.stringify(stacks));
} else if (cmd === "stack history") {
  record();
  process.stdout.write(
    JSON.stringify([
      {
        kind: "update",
        startTime: "2026-01-02T03:00:00.000Z",
        endTime: "2026-01-02T03:04:05.000Z",
        result: "succeeded",
        message: "",
        environment: {},
        config: {},
        version: 2,
      },
      {
        kind: "update",
        startTime: "2026-01-01T00:00:00.000Z",
        endTime: "2026-01-01T00:10:00.000Z",
        result: "failed",
        message: "",
        environment: {},
        config: {},
        version: 1,
      },
    ]),
  );
} else if (cmd === "config set") {
  // A value given on stdin (none in argv) is recorded, to prove which route a secret took.
  record({ stdin: fs.readFileSync(0, "utf8") });
} else {
  record();
}
process.exit(0);

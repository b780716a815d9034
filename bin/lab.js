#!/usr/bin/env node
"use strict";
// `lab` — runs the TypeScript driver directly (ts-node, transpile-only: no build step after `npm ci`).
const path = require("node:path");

require("ts-node").register({
  project: path.join(__dirname, "..", "tsconfig.json"),
  transpileOnly: true,
});
require("../automation/cli/cli").run();

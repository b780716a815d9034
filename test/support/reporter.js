"use strict";
// Mocha's spec output, then one line per failure and one plain closing line ("N passed, N failed,
// N skipped"), the form CI reads: when only the tail of a long run is kept, it still names every
// failure, the first one (often the cause of the rest) included.
const Mocha = require("mocha");

class SpecWithTotals extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const failed = [];
    runner.on(Mocha.Runner.constants.EVENT_TEST_FAIL, (test, err) => {
      const first = String((err && err.message) || err)
        .split("\n")[0]
        .slice(0, 300);
      failed.push(`failed: ${test.fullTitle()}: ${first}`);
    });
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const s = runner.stats;
      for (const line of failed) console.log(line);
      console.log(`${s.passes} passed, ${s.failures} failed, ${s.pending} skipped`);
    });
  }
}

module.exports = SpecWithTotals;

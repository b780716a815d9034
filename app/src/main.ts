// Entry point: read the settings, bind, log the start line, drain on SIGTERM/SIGINT.
// Exit codes: 0 after a clean drain, 1 when the grace time ran out (or start-up failed), 2 on bad settings.
import { type AppConfig, ConfigError, readConfig } from "./config";
import { helloBody, systemFacts } from "./hello";
import { jsonLogger, listeningFields } from "./log";
import { createServer } from "./server";

function configOrExit(): AppConfig {
  try {
    return readConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`multiarch-lab app: ${err.message}\n`);
    return process.exit(2);
  }
}

function main(): void {
  const config = configOrExit();
  const log = jsonLogger((text) => process.stdout.write(text));
  const hello = helloBody(config, systemFacts());
  const app = createServer({ hello, log });
  const graceMs = config.shutdownGraceMs;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (app.draining) {
      log("signal", { signal, note: "already draining" });
      return;
    }
    void app.shutdown(graceMs, signal).then((result) => process.exit(result.forced ? 1 : 0));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  app.listen(config.port, config.host).then(
    (address) => {
      log("listening", {
        ...listeningFields(config.host, address.port),
        arch: hello.arch,
        archSource: hello.archSource,
        ...(hello.node !== undefined ? { node: hello.node } : {}),
        pid: process.pid,
        nodeVersion: process.version,
        version: hello.version,
      });
    },
    (err: Error) => {
      process.stderr.write(
        `multiarch-lab app: cannot listen on ${config.host}:${config.port}: ${err.message}\n`,
      );
      process.exit(1);
    },
  );
}

main();

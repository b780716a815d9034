// greeter: a second example service for the lab, different from app/ on purpose: port 9090, health on
// /livez, and answers that say nothing about the CPU architecture. Node's own http module, no
// dependencies and no build step, so the image is one COPY onto BASE_IMAGE (no RUN, no emulation).
"use strict";
const { Buffer } = require("buffer");
const http = require("http");

const DEFAULT_PORT = 9090;

/** The answer to a request: [status, body]. Pure, for the tests. */
function route(method, url, state) {
  const path = (url || "/").split("?")[0];
  if (path !== "/greet" && path !== "/livez") return [404, { error: "not found", path }];
  if (method !== "GET" && method !== "HEAD") return [405, { error: "method not allowed" }];
  if (path === "/livez") return state.draining ? [503, { status: "draining" }] : [200, { status: "ok" }];
  return [200, { greeting: process.env.GREETING || "Hello", service: "greeter" }];
}

/** An http.Server answering route(); `close()` drains (health 503, then stop). */
function createServer() {
  const state = { draining: false };
  const server = http.createServer((req, res) => {
    const [status, body] = route(req.method, req.url, state);
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(text),
      "Cache-Control": "no-store",
    });
    res.end(req.method === "HEAD" ? undefined : text);
  });
  server.drain = () => {
    state.draining = true;
    server.close();
    server.closeIdleConnections();
  };
  return server;
}

function main() {
  const raw = process.env.PORT || String(DEFAULT_PORT);
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) {
    console.error(`greeter: PORT "${raw}" is not a port number (0-65535)`);
    process.exit(2);
  }
  const server = createServer();
  server.listen(port, process.env.HOST || "0.0.0.0", () => {
    console.log(JSON.stringify({ event: "listening", port: server.address().port }));
  });
  const stop = () => {
    server.drain();
    server.on("close", () => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

module.exports = { route, createServer, DEFAULT_PORT };
if (require.main === module) main();

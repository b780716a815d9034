// The HTTP service on Node's own `http` module: routes, access log and graceful shutdown.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { HelloBody } from "./hello";
import type { Logger } from "./log";

/** What a request is answered with, before it is written out. */
export interface RouteResult {
  status: number;
  body: unknown;
  headers?: Readonly<Record<string, string>>;
}

export interface RouteState {
  hello: HelloBody;
  /** True once shutdown has begun: /healthz then answers 503 so probes take the pod out of rotation. */
  draining: boolean;
}

const MAX_LOGGED_PATH = 256;
const ALLOWED_METHODS = "GET, HEAD";

/** Routes a request. Pure: the answer depends only on the method, the path and the state. */
export function route(method: string, path: string, state: RouteState): RouteResult {
  let answer: RouteResult;
  switch (path) {
    case "/hello":
      answer = { status: 200, body: state.hello };
      break;
    case "/healthz":
      answer = state.draining
        ? { status: 503, body: { status: "draining" } }
        : { status: 200, body: { status: "ok" } };
      break;
    default:
      return { status: 404, body: { error: "not found", path: path.slice(0, MAX_LOGGED_PATH) } };
  }
  if (method !== "GET" && method !== "HEAD") {
    return {
      status: 405,
      body: { error: "method not allowed", method },
      headers: { Allow: ALLOWED_METHODS },
    };
  }
  return answer;
}

/** The path of a request target, without its query string (origin-form or absolute-form). */
export function pathOf(target: string): string {
  if (!target.startsWith("/")) {
    try {
      return new URL(target).pathname;
    } catch {
      return target;
    }
  }
  const query = target.indexOf("?");
  return query === -1 ? target : target.slice(0, query);
}

export interface HandlerOptions {
  hello: HelloBody;
  log: Logger;
  isDraining: () => boolean;
}

/**
 * The request listener. A request is answered once it has fully arrived (its body, if any, is read and
 * discarded), so a request whose body is still being uploaded when shutdown starts is still in flight
 * and is answered when the upload ends. Every request leaves one access-log line when its response is
 * done (or its connection is lost: then `aborted: true`).
 */
export function createRequestHandler(options: HandlerOptions): http.RequestListener {
  const { hello, log, isDraining } = options;
  return (req, res) => {
    const started = process.hrtime.bigint();
    const method = req.method ?? "GET";
    const path = pathOf(req.url ?? "/");

    res.once("close", () => {
      const durationMs = Math.round(Number(process.hrtime.bigint() - started) / 10_000) / 100;
      log("request", {
        method,
        path: path.slice(0, MAX_LOGGED_PATH),
        status: res.headersSent ? res.statusCode : null,
        durationMs,
        ...(res.writableFinished ? {} : { aborted: true }),
      });
    });
    // A client that goes away mid-request shows up as the response's "close"; nothing more to do.
    req.on("error", () => undefined);

    req.once("end", () => {
      const draining = isDraining();
      const result = route(method, path, { hello, draining });
      const payload = JSON.stringify(result.body) + "\n";
      const headers: Record<string, string | number> = {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": Buffer.byteLength(payload),
        // Each answer names the pod that gave it: no cache may reuse one.
        "Cache-Control": "no-store",
        ...result.headers,
      };
      // While draining, every answer closes its connection, so keep-alive clients reconnect elsewhere.
      if (draining) headers.Connection = "close";
      res.writeHead(result.status, headers);
      res.end(method === "HEAD" ? undefined : payload);
    });
    req.resume();
  };
}

export interface LabServerOptions {
  hello: HelloBody;
  log: Logger;
  /**
   * How long an idle keep-alive connection stays open. Longer than the 60 s idle timeout of AWS load
   * balancers, so the balancer, not the app, closes idle connections (no 502 on a reused connection).
   */
  keepAliveTimeoutMs?: number;
}

export interface ShutdownResult {
  /** True when the grace time ran out and open connections were cut. */
  forced: boolean;
  /** Time from the start of shutdown until the server was closed. */
  drainMs: number;
}

export interface LabServer {
  readonly server: http.Server;
  /** True once shutdown has begun. */
  readonly draining: boolean;
  /** Requests received whose response is not done yet. */
  readonly inFlight: number;
  listen(port: number, host: string): Promise<AddressInfo>;
  /**
   * Stops accepting connections, closes idle keep-alive connections, lets in-flight requests finish
   * (their answers carry `Connection: close`), and resolves once every connection is closed, or after
   * `graceMs` with the remaining connections cut. Calling it again returns the same promise.
   */
  shutdown(graceMs: number, reason?: string): Promise<ShutdownResult>;
}

export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 65_000;
const IDLE_SWEEP_MS = 100;
const FORCED_CLOSE_BACKSTOP_MS = 1_000;

export function createServer(options: LabServerOptions): LabServer {
  const { log } = options;
  let draining = false;
  let inFlight = 0;
  let shutdownPromise: Promise<ShutdownResult> | undefined;
  // Set while shutting down: called whenever a response is done.
  let onResponseDone: (() => void) | undefined;

  const server = http.createServer(createRequestHandler({ ...options, isDraining: () => draining }));
  server.on("request", (_req: http.IncomingMessage, res: http.ServerResponse) => {
    inFlight += 1;
    // Registered after the access-log handler's, so the request is logged before it stops counting.
    res.once("close", () => {
      inFlight -= 1;
      onResponseDone?.();
    });
  });
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS;

  function listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once("error", onError);
      server.listen(port, host, () => {
        server.off("error", onError);
        resolve(server.address() as AddressInfo);
      });
    });
  }

  function shutdown(graceMs: number, reason = "shutdown"): Promise<ShutdownResult> {
    if (shutdownPromise !== undefined) return shutdownPromise;
    draining = true;
    const started = Date.now();
    shutdownPromise = new Promise((resolve) => {
      let settled = false;
      let forced = false;
      let backstop: NodeJS.Timeout | undefined;
      // Connections that finish their last request while draining become idle: close those too
      // (a response sent before shutdown began had no `Connection: close`).
      const sweeper = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
      const deadline = setTimeout(() => {
        forced = true;
        server.closeAllConnections();
        // The close callback below follows once the cut sockets are gone; this only guards against a hang.
        backstop = setTimeout(settle, FORCED_CLOSE_BACKSTOP_MS);
      }, graceMs);
      function settle(): void {
        if (settled) return;
        settled = true;
        clearInterval(sweeper);
        clearTimeout(deadline);
        clearTimeout(backstop);
        const result = { forced, drainMs: Date.now() - started };
        log("stopped", { ...result, inFlight });
        resolve(result);
      }
      // Done when the server has closed (its callback runs once the last connection is gone) and every
      // response has run its "close" handlers (the access log), which can come a little later.
      let serverClosed = false;
      onResponseDone = () => {
        if (serverClosed && inFlight === 0) settle();
      };
      // Closes the listening socket at once: new connections are refused from here on.
      server.close(() => {
        serverClosed = true;
        onResponseDone?.();
      });
      server.closeIdleConnections();
      log("draining", { reason, graceMs, inFlight });
    });
    return shutdownPromise;
  }

  return {
    server,
    get draining() {
      return draining;
    },
    get inFlight() {
      return inFlight;
    },
    listen,
    shutdown,
  };
}

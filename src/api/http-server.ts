import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isKnownOperation } from '../core/glue-model/operations.js';
import type { ServerMetrics } from '../core/metrics.js';
import type { GlueResponse, RequestHead } from './glue-endpoint.js';
import { readBufferedBody, withBodyIdleTimeout, type BufferedBody, type BufferedBodyBudget } from './request-body.js';
import { serveWebUi, WEB_UI_PATH } from './web-ui.js';

export interface HttpServerOptions {
  host: string;
  port: number;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** What every request's body held in memory counts against (Glue bodies; S3 small bodies). */
  bodyBudget: BufferedBodyBudget;
  /** How long the server waits for the next bytes of a request body before it gives the request up. */
  bodyIdleTimeoutMs: number;
  /** The Glue endpoint, given the request without its body and the reader of its body. */
  handleGlue: (head: RequestHead, readBody: () => Promise<BufferedBody>) => Promise<GlueResponse>;
  /**
   * The S3-compatible endpoint (embedded object store), given the streaming request and the raw
   * request target (path and query exactly as received, which SigV4 needs).
   */
  handleS3?: (request: Request, rawUrl: string) => Promise<Response>;
  /** Counted per request and answered at GET /metrics. */
  metrics?: ServerMetrics;
  /** Whether this server can take work (GET /ready): each check's state, all "ok" when ready. */
  readiness?: () => Promise<Record<string, string>>;
}

/** The API a request went to and its operation, as the metrics label them. */
interface Routed {
  api: 'glue' | 's3' | 'ui' | 'health';
  operation: string;
}

/** Unsigned GETs of these paths are the server's own, as /ui/ is (a signed request reaches S3's bucket of that name). */
const HEALTH_PATHS = new Set(['/health', '/ready', '/metrics']);

type Env = { Bindings: { incoming: IncomingMessage } };

const isSigned = (req: Request, rawUrl: string) =>
  req.headers.has('authorization') || /[?&](X-Amz-Credential|AWSAccessKeyId)=/i.test(rawUrl);

/**
 * The HTTP front, one port for both APIs. Glue's AWS JSON requests carry X-Amz-Target (on any path:
 * the JS SDK appends "/" to a custom endpoint's path); everything else is S3's REST API.
 *
 * A request answered without its body having been read (refused on its headers) has the rest of
 * its body thrown away by @hono/node-server after the answer is sent, within limits (64 MiB, half
 * a second) past which it closes the connection: nothing of it is held.
 */
export function createHttpApp(opts: HttpServerOptions): Hono<Env> {
  const app = new Hono<Env>();
  app.all('*', async (c) => {
    const started = process.hrtime.bigint();
    const routed: Routed = { api: 's3', operation: c.req.method };
    const response = await answer(c, routed);
    const { metrics } = opts;
    if (metrics) {
      const labels = { api: routed.api, operation: routed.operation };
      metrics.requests.inc({ ...labels, status: String(response.status) });
      metrics.requestSeconds.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    }
    return response;
  });

  async function answer(c: Context<Env>, routed: Routed): Promise<Response> {
    const request = withBodyIdleTimeout(c.req.raw, opts.bodyIdleTimeoutMs);
    const rawUrl = c.env.incoming?.url ?? new URL(c.req.url).pathname + new URL(c.req.url).search;
    const path = rawUrl.split('?', 1)[0]!;
    const glue = request.headers.has('x-amz-target') || (c.req.method === 'POST' && path === '/');
    if (!glue) {
      const unsignedRead = (c.req.method === 'GET' || c.req.method === 'HEAD') && !isSigned(request, rawUrl);
      if (c.req.method === 'GET' && path === '/' && !isSigned(request, rawUrl)) {
        routed.api = 'ui';
        return c.text('doppel: AWS Glue ML transforms API and S3-compatible object store; web UI at /ui/.\n');
      }
      if (unsignedRead && (path === '/ui' || path.startsWith(WEB_UI_PATH))) {
        routed.api = 'ui';
        return path === '/ui' ? c.redirect(WEB_UI_PATH) : serveWebUi(path, c.req.method);
      }
      if (unsignedRead && HEALTH_PATHS.has(path)) {
        routed.api = 'health';
        routed.operation = path.slice(1);
        return serveHealth(c, path);
      }
      if (opts.handleS3) return opts.handleS3(request, rawUrl);
      if (c.req.method !== 'POST') {
        return c.json(
          { __type: 'UnknownOperationException', Message: `No route for ${c.req.method} ${path}` },
          400,
        );
      }
    }
    routed.api = 'glue';
    const target = request.headers.get('x-amz-target')?.split('.').pop() ?? '';
    routed.operation = isKnownOperation(target) ? target : 'other';
    const q = rawUrl.indexOf('?');
    const headers: Record<string, string> = {};
    request.headers.forEach((value, key) => {
      headers[key.toLowerCase()] = value;
    });
    const res = await opts.handleGlue(
      {
        method: c.req.method,
        path: q >= 0 ? rawUrl.slice(0, q) : rawUrl,
        query: q >= 0 ? rawUrl.slice(q + 1) : '',
        headers,
      },
      () => readBufferedBody(request, { maxBytes: opts.maxBodyBytes, budget: opts.bodyBudget }),
    );
    return c.body(res.body, res.status as 200, res.headers);
  }

  async function serveHealth(c: Context<Env>, path: string): Promise<Response> {
    if (path === '/health') return c.json({ status: 'ok' });
    if (path === '/ready') {
      let checks: Record<string, string>;
      try {
        checks = (await opts.readiness?.()) ?? {};
      } catch (e) {
        checks = { readiness: (e as Error).message };
      }
      const ready = Object.values(checks).every((v) => v === 'ok');
      return c.json({ status: ready ? 'ready' : 'not ready', checks }, ready ? 200 : 503);
    }
    if (!opts.metrics) return c.text('metrics are not collected by this server\n', 404);
    return c.body(await opts.metrics.registry.metrics(), 200, { 'content-type': opts.metrics.registry.contentType });
  }

  return app;
}

export interface RunningHttpServer {
  url: string;
  close(): Promise<void>;
}

export async function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const app = createHttpApp(opts);
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: opts.host, port: opts.port }, () => resolve(s));
    s.once('error', reject);
  });
  // Clients (the SDKs) keep connections alive and reuse them; if the server closes an idle one just
  // as a client sends on it, the client sees "socket hang up". Holding idle connections longer
  // than clients do (AWS front ends use about a minute) makes that race rare.
  const http = server as import('node:http').Server;
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 66_000;
  // node:http's requestTimeout (300 s by default) bounds the whole request, so it would cut off an
  // upload that is still arriving steadily; a stalled body is given up by the idle timeout instead.
  http.requestTimeout = 0;
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NodeStatus } from '@rhi/contracts';
import type { AgentSnapshot } from '../loop/ports.js';
import { z } from 'zod';
import type { AgentMetrics } from './metrics.js';

/** What the admin endpoint serves, and the local controls it offers. */
export interface AdminSources {
  readonly metrics: AgentMetrics;
  /** The loop's state, for `/healthz` and the controls' answers. */
  readonly snapshot: () => AgentSnapshot;
  /** `GET /status`: the `NodeStatus` the agent publishes on NATS, numbered from the same counter. */
  readonly status: () => NodeStatus;
  /** `GET /ruleset`: the rule set in force with its hash, source and serial (`rhi-agent explain`); null: none. */
  readonly ruleSet?: () => { readonly hash: string; readonly source: string; readonly serial: number } | null;
  /** `POST /drain` with JSON `{reason?, waitSessions?, timeoutMs?}`. */
  readonly drain?: (request: { reason?: string; waitSessions?: number; timeoutMs?: number }) => Promise<void>;
  /** `POST /undrain`. */
  readonly undrain?: () => Promise<void>;
}

// Not `import ... from 'node:http'`: the ESM namespace of node:http reads every export, and its lazy
// WebSocket/MessageEvent getters load Node's bundled undici — 14 MB of RSS measured on Node 24.21.
const { createServer } = process.getBuiltinModule('node:http');

const DrainRequestSchema = z.strictObject({
  reason: z.string().max(200).optional(),
  waitSessions: z.number().int().min(0).optional(),
  timeoutMs: z.number().int().min(0).max(86_400_000).optional(),
});

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 4096) throw new Error('request body too large');
  }
  return text;
}

/** Splits `host:port` or `[v6]:port`. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(listen) ?? /^([^:]+):(\d+)$/.exec(listen);
  if (!m) throw new Error(`bad listen address '${listen}': expected <host>:<port>`);
  return { host: m[1] ?? '', port: Number(m[2]) };
}

/** Which endpoint a server is: TCP serves the reads only; the control socket serves the controls too. */
export type AdminEndpoint =
  | { readonly controls: true }
  /** `controlSocket` is named in the 403 that answers a control request here. */
  | { readonly controls: false; readonly controlSocket: string };

/**
 * The admin HTTP endpoint: `GET /metrics` (Prometheus), `GET /status` (the agent's `NodeStatus`, as on NATS),
 * `GET /healthz` (200 while the agent can read HAProxy and reach BIRD, else 503 with the reasons), and,
 * on the control socket only, `POST /drain`, `POST /undrain` for `rhi-agent drain|undrain`. The reads
 * need no credential. The controls do: on TCP anyone on the host can connect (and a web application
 * tricked into a request, SSRF), so there they get 403; the control socket's file mode and group decide
 * who can connect.
 */
export function createAdminServer(sources: AdminSources, endpoint: AdminEndpoint): Server {
  const control = async (path: string, req: IncomingMessage) => {
    if (path === '/undrain') {
      if (!sources.undrain) throw new Error('undrain is not available');
      await sources.undrain();
      return { ok: true, drained: sources.snapshot().drained };
    }
    if (!sources.drain) throw new Error('drain is not available');
    const text = await body(req);
    const parsed = DrainRequestSchema.safeParse(text.trim() ? JSON.parse(text) : {});
    if (!parsed.success)
      throw new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const request = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
    await sources.drain(request);
    return { ok: true, drained: sources.snapshot().drained };
  };
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, type: string, body: string) => {
      // `server` tells `rhi-agent check` that the port or socket it finds taken is a running agent's.
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', server: 'rhi-agent' });
      res.end(body);
    };
    if (req.method === 'POST' && (url.pathname === '/drain' || url.pathname === '/undrain')) {
      if (!endpoint.controls) {
        req.resume();
        const error = `POST ${url.pathname} is accepted only on the admin socket ${endpoint.controlSocket}, where its file permissions decide who may use it`;
        return send(403, 'application/json', `${JSON.stringify({ ok: false, error })}\n`);
      }
      void control(url.pathname, req).then(
        (result) => send(200, 'application/json', `${JSON.stringify(result)}\n`),
        (err: unknown) =>
          send(400, 'application/json', `${JSON.stringify({ ok: false, error: (err as Error).message })}\n`),
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
    switch (url.pathname) {
      case '/metrics':
        void sources.metrics.registry.metrics().then(
          (text) => send(200, sources.metrics.registry.contentType, text),
          (err: unknown) => send(500, 'text/plain', `${(err as Error).message}\n`),
        );
        return;
      case '/status':
        return send(200, 'application/json', `${JSON.stringify(sources.status(), null, 2)}\n`);
      case '/ruleset':
        return sources.ruleSet
          ? send(200, 'application/json', `${JSON.stringify({ ruleSet: sources.ruleSet() })}\n`)
          : send(404, 'text/plain', 'not found: this endpoint serves no rule set\n');
      case '/healthz': {
        const { status, problems, warnings } = health(sources.snapshot());
        return send(
          status === 'fail' ? 503 : 200,
          'application/json',
          `${JSON.stringify({ ok: status !== 'fail', status, problems, warnings })}\n`,
        );
      }
      default:
        return send(404, 'text/plain', 'not found: try /metrics, /status or /healthz\n');
    }
  });
}

/**
 * What `/healthz` says (the levels of the IETF health check draft, draft-inadarei-api-health-check):
 * `fail` (503) while HAProxy cannot be read, BIRD does not answer, or BIRD refuses its configuration,
 * since then no change reaches the routers; `warn` (200: the routes are right, detection is slower) while
 * HAProxy refuses the event ring; `pass` (200) otherwise. Pure.
 */
export function health(s: AgentSnapshot): {
  status: 'pass' | 'warn' | 'fail';
  problems: string[];
  warnings: string[];
} {
  const problems = [
    ...(s.haproxy.reachable ? [] : [`haproxy: ${s.haproxy.error ?? 'unreachable'}`]),
    ...(s.bird.reachable ? [] : [`bird: ${s.bird.error ?? 'unreachable'}`]),
    ...(s.bird.reachable && s.bird.error !== undefined
      ? [`bird refuses its configuration: ${s.bird.error}`]
      : []),
  ];
  const ring = s.haproxy.eventRing;
  const warnings =
    ring?.state === 'unavailable'
      ? [
          `haproxy.eventRing: ${ring.error ?? `ring '${ring.name}' refused`}: changes are seen at the poll interval only`,
        ]
      : [];
  return { status: problems.length ? 'fail' : warnings.length ? 'warn' : 'pass', problems, warnings };
}

/** Starts listening; resolves with the bound address (port 0 picks a free one). */
export async function listen(server: Server, listenOn: string): Promise<AddressInfo> {
  const { host, port } = parseListen(listenOn);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server.address() as AddressInfo;
}

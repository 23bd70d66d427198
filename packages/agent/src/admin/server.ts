import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentSnapshot } from '../loop/ports.js';
import type { AgentMetrics } from './metrics.js';

/** What the admin endpoint serves. */
export interface AdminSources {
  readonly metrics: AgentMetrics;
  readonly snapshot: () => AgentSnapshot;
}

/** Splits `host:port` or `[v6]:port`. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(listen) ?? /^([^:]+):(\d+)$/.exec(listen);
  if (!m) throw new Error(`bad listen address '${listen}': expected <host>:<port>`);
  return { host: m[1] ?? '', port: Number(m[2]) };
}

/**
 * The admin HTTP endpoint (bind it to localhost): `/metrics` (Prometheus), `/status` (the agent's state
 * as JSON) and `/healthz` (200 while the agent runs and can read HAProxy and reach BIRD, else 503, with
 * the reasons).
 */
export function createAdminServer(sources: AdminSources): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
    switch (url.pathname) {
      case '/metrics':
        void sources.metrics.registry.metrics().then(
          (text) => send(200, sources.metrics.registry.contentType, text),
          (err: unknown) => send(500, 'text/plain', `${(err as Error).message}\n`),
        );
        return;
      case '/status':
        return send(200, 'application/json', `${JSON.stringify(sources.snapshot(), null, 2)}\n`);
      case '/healthz': {
        const s = sources.snapshot();
        const problems = [
          ...(s.haproxy.reachable ? [] : [`haproxy: ${s.haproxy.error ?? 'unreachable'}`]),
          ...(s.bird.reachable ? [] : [`bird: ${s.bird.error ?? 'unreachable'}`]),
        ];
        return send(
          problems.length ? 503 : 200,
          'application/json',
          `${JSON.stringify({ ok: !problems.length, problems })}\n`,
        );
      }
      default:
        return send(404, 'text/plain', 'not found: try /metrics, /status or /healthz\n');
    }
  });
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

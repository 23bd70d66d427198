import type { ServerResponse } from 'node:http';
import { parseRouteId, TOKEN, type HealthReport } from '@rhi/contracts';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { NatsHealth, Timeline } from '../ports.js';
import type { FleetView } from '../view/fleet-view.js';
import type { RuleSetStates } from '../rulesets/rule-set-states.js';
import type { RuleSetService } from '../rulesets/rule-set-service.js';
import type { DrainService } from '../rollouts/drain-service.js';
import type { RolloutService } from '../rollouts/rollout-service.js';
import { authenticate, type Caller, type TokenEntry } from './auth.js';
import { ApiError } from './errors.js';
import { openApiDocument } from './openapi.js';
import { type PageAsset, registerDashboardRoutes } from './dashboard-routes.js';
import { registerDrainRoutes } from './drain-routes.js';
import { registerRolloutRoutes } from './rollout-routes.js';
import { registerRuleSetRoutes } from './ruleset-routes.js';

/** What the HTTP API is built over. */
export interface AppDeps {
  readonly view: FleetView;
  /** The latest health report per node (shown with the node); none when not given. */
  readonly health?: { get(node: string): HealthReport | undefined };
  readonly timeline: Timeline;
  readonly nats: () => NatsHealth;
  readonly tokens: readonly TokenEntry[];
  readonly metrics: () => Promise<{ contentType: string; text: string }>;
  readonly logger: Logger;
  readonly version: string;
  /** Rule sets: store, history, what-if. Without it those routes are not served. */
  readonly rulesets?: RuleSetService;
  /** Drains and undrains from the controller. Without it those routes are not served. */
  readonly drains?: DrainService;
  /** Rollouts: start, read, pause, resume, abort. Without it those routes are not served. */
  readonly rollouts?: RolloutService;
  /** Each node's rule-set state (assigned, active, last good, error); shown with the node when given. */
  readonly ruleSetStates?: Pick<RuleSetStates, 'stateOf'>;
  /** Comment lines on the live stream this often, so that proxies keep it open. Default 15 s. */
  readonly streamKeepAliveMs?: number;
  /** The dashboard's files (`@rhi/dashboard`), served at `/ui/`; none, no dashboard. */
  readonly page?: Readonly<Record<string, PageAsset>>;
}

const time = z.union([
  z.string().regex(/^\d+$/).transform(Number),
  z.iso.datetime({ offset: true }).transform((t) => Date.parse(t)),
]);
const EventsQuery = z.strictObject({
  node: z.string().regex(TOKEN, 'a node name').optional(),
  vip: z
    .string()
    .refine((v) => parseRouteId(v) !== null, 'a route id, table%prefix')
    .optional(),
  since: time.optional(),
  until: time.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

const MatrixQuery = z.strictObject({
  nodes: z
    .string()
    .transform((v) => v.split(',').filter((n) => n !== ''))
    .pipe(z.array(z.string().regex(TOKEN, 'a node name')).max(10_000))
    .optional(),
});

/** The API: reads of the fleet view and the timeline, behind bearer tokens. Listening is the caller's. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.setErrorHandler((err, request, reply) => {
    const nats = deps.nats();
    if (err instanceof ApiError) {
      // A write refused for NATS while the cluster has lost its quorum says so.
      if (err.code === 'NATS_UNAVAILABLE' && nats.code === 'NATS_QUORUM_LOST')
        return reply
          .status(503)
          .send(new ApiError(503, 'NATS_QUORUM_LOST', nats.reason ?? 'NATS quorum lost').body());
      return reply.status(err.status).send(err.body());
    }
    // JetStream failing under a write that started before the quorum was seen lost.
    const message = (err as Error).message ?? '';
    if (
      /jetstream is not enabled|temporarily unavailable|TimeoutError|timeout/i.test(message) &&
      (err as { statusCode?: number }).statusCode === undefined
    ) {
      request.log.warn(
        { event: 'apiNatsFailed', err, url: request.url },
        'a NATS request failed under the API',
      );
      return reply
        .status(503)
        .send(
          new ApiError(
            503,
            /jetstream is not enabled|temporarily unavailable/i.test(message)
              ? 'NATS_QUORUM_LOST'
              : 'NATS_UNAVAILABLE',
            `NATS did not do it: ${message}; nothing was changed that the answer does not say`,
          ).body(),
        );
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status < 500)
      return reply.status(status).send({ error: { code: 'BAD_REQUEST', message: (err as Error).message } });
    request.log.error({ event: 'apiError', err, url: request.url }, 'API handler failed');
    return reply.status(500).send({ error: { code: 'INTERNAL', message: 'internal error (logged)' } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` } }),
  );

  const callers = new WeakMap<FastifyRequest, Caller>();
  const guard = async (request: FastifyRequest) => {
    callers.set(request, authenticate(request.headers.authorization, deps.tokens));
  };
  const operator = async (request: FastifyRequest) => {
    const caller = authenticate(request.headers.authorization, deps.tokens);
    if (caller.role !== 'operator')
      throw new ApiError(
        403,
        'FORBIDDEN',
        `this changes the fleet: it needs an operator token, and '${caller.name}' is a ${caller.role}`,
      );
    callers.set(request, caller);
  };
  const caller = (request: FastifyRequest): Caller => {
    const c = callers.get(request);
    if (!c) throw new Error('route without an authentication hook');
    return c;
  };
  if (deps.rulesets) registerRuleSetRoutes(app, { rulesets: deps.rulesets, caller, viewer: guard, operator });
  if (deps.rollouts) registerRolloutRoutes(app, { rollouts: deps.rollouts, caller, viewer: guard, operator });
  if (deps.drains) registerDrainRoutes(app, { drains: deps.drains, caller, operator });
  if (deps.page) registerDashboardRoutes(app, deps.page);
  /** The view, marked stale and answered with 503 while NATS is unreachable. */
  const view = (reply: FastifyReply, body: Record<string, unknown>) => {
    const nats = deps.nats();
    const payload = { ...body, stale: !nats.up, generatedAt: new Date().toISOString() };
    if (nats.up) return reply.send(payload);
    return reply.status(503).send({
      ...payload,
      error:
        nats.code === 'NATS_QUORUM_LOST'
          ? {
              code: 'NATS_QUORUM_LOST',
              message: `${nats.reason ?? 'NATS quorum lost'}: this view may be stale`,
            }
          : {
              code: 'NATS_UNAVAILABLE',
              message: `NATS is unreachable (${nats.reason ?? 'no connection'}): this view may be stale`,
            },
    });
  };

  app.get('/healthz', async (_request, reply) => {
    const nats = deps.nats();
    return reply
      .status(nats.up ? 200 : 503)
      .send(nats.up ? { ok: true } : { ok: false, reason: nats.reason });
  });
  app.get('/api/v1/whoami', { onRequest: guard }, async (request) => {
    const c = caller(request);
    return { name: c.name, role: c.role };
  });
  app.get('/api/v1/openapi.json', async () => openApiDocument(deps.version));
  app.get('/metrics', { onRequest: guard }, async (_request, reply) => {
    const { contentType, text } = await deps.metrics();
    return reply.type(contentType).send(text);
  });
  app.get('/api/v1/vips', { onRequest: guard }, async (_request, reply) =>
    view(reply, { vips: deps.view.vipSummaries() }),
  );
  app.get<{ Params: { id: string } }>('/api/v1/vips/:id', { onRequest: guard }, async (request, reply) => {
    const vip = deps.view.vip(request.params.id);
    if (!vip) {
      if (!parseRouteId(request.params.id))
        throw new ApiError(
          400,
          'BAD_VIP_ID',
          `'${request.params.id}' is not a route id (table%prefix, URL-encoded)`,
          'id',
        );
      throw new ApiError(404, 'VIP_NOT_FOUND', `no node has a rule for ${request.params.id}`, 'id');
    }
    return view(reply, { vip });
  });
  app.get<{ Querystring: Record<string, string> }>(
    '/api/v1/matrix',
    { onRequest: guard },
    async (request, reply) => {
      const parsed = MatrixQuery.safeParse(request.query);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue?.path.join('.') || 'query';
        throw new ApiError(400, 'BAD_QUERY', `${field}: ${issue?.message ?? 'invalid'}`, field);
      }
      return view(reply, { ...deps.view.matrix(parsed.data.nodes) });
    },
  );
  app.get('/api/v1/nodes', { onRequest: guard }, async (_request, reply) =>
    view(reply, { nodes: deps.view.nodes() }),
  );
  app.get<{ Params: { name: string } }>(
    '/api/v1/nodes/:name',
    { onRequest: guard },
    async (request, reply) => {
      const node = deps.view.node(request.params.name);
      if (!node)
        throw new ApiError(404, 'NODE_NOT_FOUND', `no node '${request.params.name}' has reported`, 'name');
      return view(reply, {
        node: node.summary,
        status: node.status,
        health: deps.health?.get(request.params.name) ?? null,
        ruleSet: deps.ruleSetStates?.stateOf(request.params.name, node.status.ruleSet ?? null) ?? null,
      });
    },
  );
  app.get('/api/v1/alerts', { onRequest: guard }, async (_request, reply) =>
    view(reply, {
      alerts: deps.view.alerts().map((a) => ({ ...a, since: new Date(a.since).toISOString() })),
    }),
  );
  app.get('/api/v1/events', { onRequest: guard }, async (request, reply) => {
    const parsed = EventsQuery.safeParse(request.query);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || undefined;
      throw new ApiError(400, 'BAD_QUERY', `${field ?? 'query'}: ${issue?.message ?? 'invalid'}`, field);
    }
    const q = parsed.data;
    if (q.since !== undefined && q.until !== undefined && q.until < q.since)
      throw new ApiError(400, 'BAD_QUERY', 'until: is before since', 'until');
    if (!deps.nats().up)
      throw new ApiError(503, 'NATS_UNAVAILABLE', 'NATS is unreachable: the timeline lives in JetStream');
    const { entries, truncated } = await deps.timeline.query({
      limit: q.limit,
      ...(q.node === undefined ? {} : { node: q.node }),
      ...(q.vip === undefined ? {} : { vip: q.vip }),
      ...(q.since === undefined ? {} : { since: q.since }),
      ...(q.until === undefined ? {} : { until: q.until }),
    });
    return reply.send({ events: entries, truncated });
  });
  // Streams never end by themselves: a close would wait for them forever. They are ended first, and a
  // page follows the next replica (or this one back) with its Last-Event-ID.
  const streams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const out of streams) out.end();
  });
  app.get('/api/v1/stream', { onRequest: guard }, (request, reply) => {
    const last = Number(request.headers['last-event-id']);
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    out.write(': rhi-controller view changes\n\n');
    const send = (c: { id: number; kind: string; subject: string; data: unknown }) =>
      out.write(
        `id: ${c.id}\nevent: ${c.kind}\ndata: ${JSON.stringify({ subject: c.subject, data: c.data })}\n\n`,
      );
    if (Number.isInteger(last) && last >= 0) {
      const missed = deps.view.changesSince(last);
      if (missed === null)
        out.write(
          'event: reset\ndata: {"reason":"changes since that id are forgotten: read the view again"}\n\n',
        );
      else for (const c of missed) send(c);
    }
    const stop = deps.view.subscribe(send);
    const keepAlive = setInterval(() => out.write(': keep-alive\n\n'), deps.streamKeepAliveMs ?? 15_000);
    streams.add(out);
    request.raw.once('close', () => {
      streams.delete(out);
      stop();
      clearInterval(keepAlive);
    });
  });
  return app;
}

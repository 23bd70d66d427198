import { RolloutStrategySchema, TOKEN } from '@rhi/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { GuardForceReasonMissingError } from '../rollout/guard.js';
import { RolloutInvalidError } from '../rollout/rollout-types.js';
import { SelectorSyntaxError } from '@rhi/contracts';
import { RolloutNoNodesError } from '../rollout/step-plan.js';
import { RolloutActiveError, RolloutExistsError } from '../nats/rollout-store.js';
import { RolloutServiceError, type RolloutService } from '../rollouts/rollout-service.js';
import { RuleSetServiceError } from '../rulesets/rule-set-service.js';
import type { Caller } from './auth.js';
import { ApiError } from './errors.js';
import { parsed, targetOf } from './parse.js';
import { mapRuleSetError } from './ruleset-routes.js';

const reason = z.string().trim().min(1, 'say why: it is kept in the timeline').max(1024);
const StartBody = z.strictObject({
  /** The stored rule set to roll out (with `rollback`: the one to go back to). */
  serial: z.number().int().min(1),
  /** Default: the rule set's own target. */
  target: z.string().max(1024).optional(),
  strategy: z.record(z.string(), z.unknown()).optional(),
  message: z.string().trim().min(1).max(1024).optional(),
  /** Go past the guard; the reason is recorded. */
  force: reason.optional(),
  rollback: z.boolean().optional(),
  id: z.string().regex(TOKEN, '1-64 letters, digits, - or _').optional(),
});
const StrategyBody = z.strictObject({ strategy: RolloutStrategySchema });
const IdParam = z.strictObject({ id: z.string().regex(TOKEN, 'a rollout id') });
const PauseBody = z.strictObject({ reason: z.string().trim().max(1024).optional() });
const AbortBody = z.strictObject({ reason });
const RollbackBody = z.strictObject({ to: z.number().int().min(1), reason });
const ListQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(20) });

/** A rollback goes straight to every node unless told otherwise: no canary, one batch, no soak. */
const ROLLBACK_STRATEGY = { canary: null, batch: { percent: 100 }, soakMs: 0 };

const STATUS: Record<RolloutServiceError['code'], number> = {
  NATS_UNAVAILABLE: 503,
  ROLLOUT_NOT_FOUND: 404,
  ROLLOUT_BLOCKED: 409,
  ROLLOUT_BUSY: 409,
  ROLLOUT_NOT_RUNNING: 409,
  ROLLOUT_NOT_PAUSED: 409,
  ROLLOUT_FINISHED: 409,
  ROLLOUT_NOTHING_ASSIGNED: 409,
  ROLLOUT_ROLLBACK_SERIAL_STALE: 409,
  ROLLOUT_REASON_MISSING: 400,
};

function mapped(err: unknown): never {
  if (err instanceof RolloutServiceError)
    throw new ApiError(
      STATUS[err.code],
      err.code,
      err.message,
      undefined,
      err.whatIf ? { whatIf: err.whatIf } : {},
    );
  if (err instanceof RolloutActiveError) throw new ApiError(409, err.code, err.message);
  if (err instanceof RolloutExistsError) throw new ApiError(409, err.code, err.message, 'id');
  if (err instanceof RolloutNoNodesError)
    throw new ApiError(422, err.code, err.message, err.what === 'target' ? 'target' : 'strategy.canary');
  if (err instanceof SelectorSyntaxError) throw new ApiError(400, err.code, err.message, 'strategy.canary');
  if (err instanceof RolloutInvalidError) throw new ApiError(422, err.code, err.message);
  if (err instanceof GuardForceReasonMissingError) throw new ApiError(400, err.code, err.message, 'force');
  if (err instanceof RuleSetServiceError) mapRuleSetError(err);
  throw err;
}

/** What the rollout routes are given. */
export interface RolloutRouteDeps {
  readonly rollouts: RolloutService;
  readonly caller: (request: FastifyRequest) => Caller;
  readonly viewer: (request: FastifyRequest) => Promise<void>;
  readonly operator: (request: FastifyRequest) => Promise<void>;
}

/** `/api/v1/rollouts`: start a staged rollout (or a rollback), read them, pause, resume and abort one. */
export function registerRolloutRoutes(app: FastifyInstance, deps: RolloutRouteDeps): void {
  const { rollouts } = deps;
  app.post('/api/v1/rollouts', { onRequest: deps.operator }, async (request, reply) => {
    const body = parsed(StartBody, request.body, 'body');
    const { strategy } = parsed(
      StrategyBody,
      { strategy: { ...(body.rollback ? ROLLBACK_STRATEGY : {}), ...body.strategy } },
      'body',
    );
    const by = deps.caller(request).name;
    const target = targetOf(body.target);
    const started = await rollouts
      .start({
        serial: body.serial,
        strategy,
        by,
        ...(target === undefined ? {} : { target }),
        ...(body.message === undefined ? {} : { message: body.message }),
        ...(body.force === undefined ? {} : { force: body.force }),
        ...(body.rollback === undefined ? {} : { rollback: body.rollback }),
        ...(body.id === undefined ? {} : { id: body.id }),
      })
      .catch(mapped);
    const r = started.rollout;
    request.log.info(
      {
        event: 'rolloutStarted',
        rollout: r.id,
        serial: r.ruleSet.serial,
        by,
        steps: r.steps.length,
        forced: body.force !== undefined,
      },
      `rollout ${r.id} of serial ${r.ruleSet.serial} started by ${by}`,
    );
    return reply.status(201).send({
      rollout: r,
      skipped: started.skipped,
      guard: started.whatIf.guard,
      counts: started.whatIf.whatIf.counts,
    });
  });
  app.get('/api/v1/rollouts', { onRequest: deps.viewer }, async (request) => {
    const q = parsed(ListQuery, request.query, 'query');
    return rollouts.list(q.limit).catch(mapped);
  });
  app.get('/api/v1/rollouts/:id', { onRequest: deps.viewer }, async (request) => {
    const { id } = parsed(IdParam, request.params, 'params');
    return { rollout: await rollouts.get(id).catch(mapped) };
  });
  const command = (
    name: 'pause' | 'resume' | 'abort',
    body: (request: FastifyRequest) => { reason?: string },
  ) =>
    app.post(`/api/v1/rollouts/:id/${name}`, { onRequest: deps.operator }, async (request) => {
      const { id } = parsed(IdParam, request.params, 'params');
      const { reason } = body(request);
      const by = deps.caller(request).name;
      const rollout = await rollouts
        .command(id, (now) =>
          name === 'abort'
            ? { type: 'abort', now, by, reason: reason ?? '' }
            : name === 'pause'
              ? { type: 'pause', now, by, ...(reason ? { reason } : {}) }
              : { type: 'resume', now, by },
        )
        .catch(mapped);
      request.log.info(
        { event: `rollout${name[0]!.toUpperCase()}${name.slice(1)}`, rollout: id, by, reason },
        `rollout ${id}: ${name} by ${by}`,
      );
      return { rollout };
    });
  app.post('/api/v1/rollouts/:id/rollback', { onRequest: deps.operator }, async (request) => {
    const { id } = parsed(IdParam, request.params, 'params');
    const body = parsed(RollbackBody, request.body, 'body');
    const by = deps.caller(request).name;
    const rollout = await rollouts.rollbackTo(id, body.to, by, body.reason).catch(mapped);
    request.log.info(
      { event: 'rolloutRollback', rollout: id, by, to: body.to, reason: body.reason },
      `rollout ${id}: rollback to serial ${body.to} by ${by}`,
    );
    return { rollout };
  });
  command('pause', (r) => parsed(PauseBody, r.body, 'body'));
  command('resume', (r) => {
    parsed(z.strictObject({}), r.body, 'body');
    return {};
  });
  command('abort', (r) => parsed(AbortBody, r.body, 'body'));
}

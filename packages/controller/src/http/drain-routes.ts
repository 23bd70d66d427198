import { TOKEN } from '@rhi/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { GuardForceReasonMissingError } from '../rollout/guard.js';
import { formatSelector, parseSelector, SelectorSyntaxError } from '@rhi/contracts';
import { DrainServiceError, type DrainService, type DrainTarget } from '../rollouts/drain-service.js';
import type { Caller } from './auth.js';
import { ApiError } from './errors.js';
import { parsed } from './parse.js';

const text = z.string().trim().min(1).max(1024);
const NodeParam = z.strictObject({ name: z.string().regex(TOKEN, 'a node name') });
/** A drain that waits for sessions: routes de-preferred until HAProxy's connections fall, then withdrawn. */
const sessions = {
  waitSessions: z.number().int().min(0).max(100_000_000).optional(),
  timeoutSec: z.number().positive().max(86_400).optional(),
};
const boundedWait: [
  (b: { waitSessions?: number | undefined; timeoutSec?: number | undefined }) => boolean,
  { message: string; path: string[] },
] = [
  (b) => b.timeoutSec === undefined || b.waitSessions !== undefined,
  { message: 'timeoutSec bounds the wait for sessions: give it with waitSessions', path: ['timeoutSec'] },
];
const DrainBody = z
  .strictObject({ reason: text.optional(), force: text.optional(), ...sessions })
  .refine(...boundedWait);
const UndrainBody = z.strictObject({});
const GroupDrainBody = z
  .strictObject({
    selector: z.string().max(1024),
    reason: text.optional(),
    force: text.optional(),
    ...sessions,
  })
  .refine(...boundedWait);
const GroupUndrainBody = z.strictObject({ selector: z.string().max(1024) });

const STATUS: Record<DrainServiceError['code'], number> = {
  NATS_UNAVAILABLE: 503,
  NODE_NOT_FOUND: 404,
  DRAIN_NO_NODES: 422,
  DRAIN_BLOCKED: 409,
};

function mapped(err: unknown): never {
  if (err instanceof DrainServiceError)
    throw new ApiError(
      STATUS[err.code],
      err.code,
      err.message,
      undefined,
      err.judged ? { ...err.judged } : {},
    );
  if (err instanceof SelectorSyntaxError) throw new ApiError(400, err.code, err.message, 'selector');
  if (err instanceof GuardForceReasonMissingError) throw new ApiError(400, err.code, err.message, 'force');
  throw err;
}

function selectorOf(text: string): DrainTarget {
  try {
    return { selector: formatSelector(parseSelector(text)) };
  } catch (err) {
    return mapped(err);
  }
}

/** What the drain routes are given. */
export interface DrainRouteDeps {
  readonly drains: DrainService;
  readonly caller: (request: FastifyRequest) => Caller;
  readonly operator: (request: FastifyRequest) => Promise<void>;
}

/**
 * `/api/v1/nodes/{name}/drain|undrain` and `/api/v1/drain|undrain` (a label group): drains judged by the
 * minimum-advertiser guard, each node's answer given back and recorded in the timeline.
 */
export function registerDrainRoutes(app: FastifyInstance, deps: DrainRouteDeps): void {
  const { drains } = deps;
  const logged = (
    request: FastifyRequest,
    action: string,
    target: DrainTarget,
    answers: readonly { result: string }[],
  ) =>
    request.log.info(
      {
        event: action === 'drain' ? 'nodesDrained' : 'nodesUndrained',
        by: deps.caller(request).name,
        target: 'node' in target ? target.node : target.selector,
        nodes: answers.length,
        applied: answers.filter((a) => a.result === 'applied').length,
      },
      `${action} of ${'node' in target ? target.node : target.selector} by ${deps.caller(request).name}`,
    );
  const drain = async (
    request: FastifyRequest,
    target: DrainTarget,
    body: {
      reason?: string | undefined;
      force?: string | undefined;
      waitSessions?: number | undefined;
      timeoutSec?: number | undefined;
    },
  ) => {
    const answer = await drains
      .drain({
        target,
        by: deps.caller(request).name,
        ...(body.reason === undefined ? {} : { reason: body.reason }),
        ...(body.force === undefined ? {} : { force: body.force }),
        ...(body.waitSessions === undefined ? {} : { waitSessions: body.waitSessions }),
        ...(body.timeoutSec === undefined ? {} : { timeoutSec: body.timeoutSec }),
      })
      .catch(mapped);
    logged(request, 'drain', target, answer.action.answers);
    return answer;
  };
  const undrain = async (request: FastifyRequest, target: DrainTarget) => {
    const answer = await drains.undrain({ target, by: deps.caller(request).name }).catch(mapped);
    logged(request, 'undrain', target, answer.action.answers);
    return answer;
  };
  app.post('/api/v1/nodes/:name/drain', { onRequest: deps.operator }, async (request) => {
    const { name } = parsed(NodeParam, request.params, 'params');
    return drain(request, { node: name }, parsed(DrainBody, request.body, 'body'));
  });
  app.post('/api/v1/nodes/:name/undrain', { onRequest: deps.operator }, async (request) => {
    const { name } = parsed(NodeParam, request.params, 'params');
    parsed(UndrainBody, request.body, 'body');
    return undrain(request, { node: name });
  });
  app.post('/api/v1/drain', { onRequest: deps.operator }, async (request) => {
    const body = parsed(GroupDrainBody, request.body, 'body');
    return drain(request, selectorOf(body.selector), body);
  });
  app.post('/api/v1/undrain', { onRequest: deps.operator }, async (request) => {
    const body = parsed(GroupUndrainBody, request.body, 'body');
    return undrain(request, selectorOf(body.selector));
  });
}

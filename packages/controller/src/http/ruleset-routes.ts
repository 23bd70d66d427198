import { summaryOf } from '@rhi/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { RuleSetServiceError, type RuleSetService } from '../rulesets/rule-set-service.js';
import { RuleSetSerialContendedError, RuleSetTooLargeError } from '../nats/rule-set-store.js';
import type { Caller } from './auth.js';
import { ApiError } from './errors.js';
import { parsed, targetOf } from './parse.js';

/** A rule-set upload's body is at most this big (a 4 MiB text, JSON-escaped). */
export const RULESET_BODY_LIMIT = 10 * 1024 * 1024;

const target = z.string().max(1024).optional();
const file = z
  .string()
  .regex(/^[A-Za-z0-9_.@/-]{1,128}$/, '1-128 letters, digits, _ . @ / -')
  .optional();
const UploadBody = z.strictObject({
  source: z.string(),
  message: z.string().trim().min(1, 'say why: the message is kept in the history').max(1024),
  /** `all` (the default) or a label selector, e.g. `site=par1,role=edge`. */
  target,
  file,
});
const WhatIfBody = z.union([
  z.strictObject({ source: z.string(), file, target }),
  z.strictObject({ serial: z.number().int().min(1), target }),
]);
const HistoryQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  before: z.coerce.number().int().min(2).optional(),
});
const SerialParam = z.strictObject({ serial: z.coerce.number().int().min(1) });

/** What the rule-set routes are given. */
export interface RuleSetRouteDeps {
  readonly rulesets: RuleSetService;
  /** Who the request is (authenticated by the hook before). */
  readonly caller: (request: FastifyRequest) => Caller;
  /** Authenticates any role. */
  readonly viewer: (request: FastifyRequest) => Promise<void>;
  /** Authenticates an operator: a viewer gets 403. */
  readonly operator: (request: FastifyRequest) => Promise<void>;
}

/** The answer for what the service or the store refused. */
export function mapRuleSetError(err: unknown): never {
  if (err instanceof RuleSetServiceError) {
    const status = {
      RULESETS_NOT_CONFIGURED: 409,
      NATS_UNAVAILABLE: 503,
      RULESET_NOT_FOUND: 404,
      RULESET_INVALID: 422,
      RULESET_EMPTY: 422,
    }[err.code];
    const lint = err.lint;
    throw new ApiError(
      status,
      err.code,
      err.message,
      lint ? 'source' : undefined,
      lint
        ? { errors: lint.errors, warnings: lint.warnings, diagnostics: lint.diagnostics, text: lint.text }
        : {},
    );
  }
  if (err instanceof RuleSetTooLargeError) throw new ApiError(413, err.code, err.message, 'source');
  if (err instanceof RuleSetSerialContendedError) throw new ApiError(503, err.code, err.message);
  throw err;
}

/** `/api/v1/rulesets` and `/api/v1/whatif`: store, list, read and simulate rule sets. */
export function registerRuleSetRoutes(app: FastifyInstance, deps: RuleSetRouteDeps): void {
  const { rulesets } = deps;
  app.post(
    '/api/v1/rulesets',
    { onRequest: deps.operator, bodyLimit: RULESET_BODY_LIMIT },
    async (request, reply) => {
      const body = parsed(UploadBody, request.body, 'body');
      const author = deps.caller(request).name;
      const { record, warnings } = await rulesets
        .upload({
          source: body.source,
          message: body.message,
          target: targetOf(body.target) ?? { kind: 'all' },
          author,
          ...(body.file === undefined ? {} : { file: body.file }),
        })
        .catch(mapRuleSetError);
      request.log.info(
        { event: 'ruleSetStored', serial: record.serial, hash: record.hash, author, rules: record.rules },
        `rule set ${record.serial} stored by ${author}`,
      );
      return reply.status(201).send({ ruleset: summaryOf(record), warnings });
    },
  );
  app.get('/api/v1/rulesets', { onRequest: deps.viewer }, async (request) => {
    const q = parsed(HistoryQuery, request.query, 'query');
    const rulesetsFound = await rulesets
      .history({ limit: q.limit, ...(q.before === undefined ? {} : { before: q.before }) })
      .catch(mapRuleSetError);
    return { rulesets: rulesetsFound };
  });
  app.get('/api/v1/rulesets/:serial', { onRequest: deps.viewer }, async (request) => {
    const { serial } = parsed(SerialParam, request.params, 'params');
    const record = await rulesets.get(serial).catch(mapRuleSetError);
    return { ruleset: summaryOf(record), source: record.source };
  });
  app.post('/api/v1/whatif', { onRequest: deps.viewer, bodyLimit: RULESET_BODY_LIMIT }, async (request) => {
    const body = parsed(WhatIfBody, request.body, 'body');
    const to = targetOf(body.target);
    const candidate =
      'serial' in body
        ? { serial: body.serial }
        : { source: body.source, ...(body.file === undefined ? {} : { file: body.file }) };
    return rulesets.whatIf(candidate, to).catch(mapRuleSetError);
  });
}

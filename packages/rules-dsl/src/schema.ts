import { z } from 'zod';
import type { Expr, RuleSet } from './ast.js';
import type { HealthState } from './health.js';

const u32 = z.number().int().min(0).max(0xffffffff);
const u16 = z.number().int().min(0).max(0xffff);

/** zod schema of an expression (recursive). */
export const ExprSchema: z.ZodType<Expr> = z.lazy(() =>
  z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('proxy'),
      side: z.enum(['backend', 'frontend']),
      name: z.string().regex(/^[A-Za-z0-9_.:-]+$/),
      threshold: z
        .strictObject({ kind: z.enum(['count', 'percent']), value: z.number().int().min(1) })
        .optional(),
    }),
    z.strictObject({ type: z.enum(['all', 'any']), args: z.array(ExprSchema).min(1) }),
    z.strictObject({ type: z.literal('not'), arg: ExprSchema }),
    z.strictObject({
      type: z.literal('atleast'),
      n: z.number().int().min(1),
      args: z.array(ExprSchema).min(1),
    }),
    z.strictObject({ type: z.literal('const'), value: z.boolean() }),
  ]),
);

/** zod schema of a compiled rule set: the shape only; {@link validateRuleSet} also checks its meaning. */
export const RuleSetSchema: z.ZodType<RuleSet> = z.strictObject({
  version: z.literal(1),
  rules: z.array(
    z.strictObject({
      routes: z
        .array(z.strictObject({ table: z.string(), prefix: z.string(), family: z.enum(['ipv4', 'ipv6']) }))
        .min(1),
      expr: ExprSchema,
      attributes: z
        .strictObject({
          med: u32.optional(),
          localPref: u32.optional(),
          communities: z.array(z.tuple([u16, u16])).optional(),
          largeCommunities: z.array(z.tuple([u32, u32, u32])).optional(),
        })
        .optional(),
    }),
  ),
});

const count = z.number().int().min(0);

/** zod schema of a health state (the `--state` file). */
export const HealthStateSchema: z.ZodType<HealthState> = z.strictObject({
  frontends: z.record(z.string(), z.strictObject({ up: z.boolean(), reason: z.string().optional() })),
  backends: z.record(
    z.string(),
    z
      .strictObject({
        up: z.boolean(),
        reason: z.string().optional(),
        serversUp: count.optional(),
        serversTotal: count.optional(),
      })
      .refine(
        (b) => b.serversUp === undefined || b.serversTotal === undefined || b.serversUp <= b.serversTotal,
        {
          message: 'serversUp is larger than serversTotal',
        },
      ),
  ),
});

import { z } from 'zod';
import type { Expr, RuleSet } from './ast.js';
import type { HealthState } from './health.js';
import { DEPTH_CEILING } from './limits.js';

const u32 = z.number().int().min(0).max(0xffffffff);
const u16 = z.number().int().min(0).max(0xffff);

/**
 * Whether `value` nests `arg`/`args` deeper than {@link DEPTH_CEILING} levels, found without recursion (a
 * deeper value would overflow the stack of the recursive schema below, and of everything after it).
 */
function tooDeep(value: unknown): boolean {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length) {
    const node = values.pop();
    const depth = (depths.pop() ?? 0) + 1;
    if (typeof node !== 'object' || node === null) continue;
    const { arg, args } = node as { arg?: unknown; args?: unknown };
    const children = Array.isArray(args) ? (args as unknown[]) : arg === undefined ? [] : [arg];
    if (children.length && depth > DEPTH_CEILING) return true;
    for (const child of children) {
      values.push(child);
      depths.push(depth);
    }
  }
  return false;
}

/** The shape of an expression, checked by recursion (only ever reached through {@link ExprSchema}). */
const ExprShape: z.ZodType<Expr> = z.lazy(() =>
  z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('proxy'),
      side: z.enum(['backend', 'frontend']),
      name: z.string().regex(/^[A-Za-z0-9_.:-]+$/),
      threshold: z
        .strictObject({ kind: z.enum(['count', 'percent']), value: z.number().int().min(1) })
        .optional(),
    }),
    z.strictObject({ type: z.enum(['all', 'any']), args: z.array(ExprShape).min(1) }),
    z.strictObject({ type: z.literal('not'), arg: ExprShape }),
    z.strictObject({
      type: z.literal('atleast'),
      n: z.number().int().min(1),
      args: z.array(ExprShape).min(1),
    }),
    z.strictObject({ type: z.literal('const'), value: z.boolean() }),
  ]),
);

/**
 * zod schema of an expression. Nesting deeper than `DEPTH_CEILING` levels is refused before the (recursive)
 * shape check, so that no value from the wire can overflow the stack.
 */
export const ExprSchema: z.ZodType<Expr> = z
  .unknown()
  .refine((value) => !tooDeep(value), {
    message: `expression nested deeper than ${DEPTH_CEILING} levels`,
    abort: true,
  })
  .pipe(ExprShape);

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

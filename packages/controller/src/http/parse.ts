import type { RuleSetTarget } from '@rhi/contracts';
import type { z } from 'zod';
import { formatSelector, parseSelector, SelectorSyntaxError } from '@rhi/contracts';
import { ApiError } from './errors.js';

/** The request part `where` read by `schema`; a 400 naming the field that is wrong. */
export function parsed<T>(schema: z.ZodType<T>, value: unknown, where: 'body' | 'query' | 'params'): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') || undefined;
  throw new ApiError(
    400,
    where === 'query' ? 'BAD_QUERY' : 'BAD_REQUEST',
    `${field ?? where}: ${issue?.message ?? 'invalid'}`,
    field,
  );
}

/** A target as the API takes it (`all`, or a label selector) in canonical form; a 400 when it is not one. */
export function targetOf(text: string | undefined): RuleSetTarget | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === 'all') return { kind: 'all' };
  try {
    return { kind: 'selector', selector: formatSelector(parseSelector(text)) };
  } catch (err) {
    if (err instanceof SelectorSyntaxError) throw new ApiError(400, err.code, err.message, 'target');
    throw err;
  }
}

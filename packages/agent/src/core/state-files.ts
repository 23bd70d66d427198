import { SignedRuleSetSchema } from '@rhi/contracts';
import { z } from 'zod';

/** The last good rule set, as persisted: a signed envelope from the controller, or a local file's text. */
export const PersistedRuleSetSchema = z.discriminatedUnion('source', [
  z.strictObject({
    schema: z.literal('rhi.v1.persisted-ruleset'),
    source: z.literal('controller'),
    envelope: SignedRuleSetSchema,
  }),
  z.strictObject({
    schema: z.literal('rhi.v1.persisted-ruleset'),
    source: z.literal('file'),
    file: z.string(),
    text: z.string(),
    hash: z.string(),
  }),
]);
export type PersistedRuleSet = z.infer<typeof PersistedRuleSetSchema>;

/** The drain state, which survives restarts. */
export const PersistedDrainSchema = z.strictObject({
  schema: z.literal('rhi.v1.drain'),
  drained: z.boolean(),
  reason: z.string().optional(),
  since: z.iso.datetime(),
});
export type PersistedDrain = z.infer<typeof PersistedDrainSchema>;

/** The text of a state file. */
export const stateFileText = (value: PersistedRuleSet | PersistedDrain): string =>
  `${JSON.stringify(value, null, 2)}\n`;

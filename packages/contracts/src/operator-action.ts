import { z } from 'zod';
import { TOKEN, WIRE_VERSION } from './subjects.js';

const nodeName = z.string().regex(TOKEN, 'a node name is 1-64 letters, digits, - or _');

/** What each node answered to an operator's command: its ack, or nothing within the timeout. */
export const NodeAnswerSchema = z.strictObject({
  node: nodeName,
  result: z.enum(['applied', 'rejected', 'noAnswer']),
  reason: z.string().max(1024).optional(),
});
export type NodeAnswer = z.infer<typeof NodeAnswerSchema>;

/**
 * An operator's action on nodes through the controller (a drain, an undrain), published once on
 * `subjects.operatorActions` so that the timeline says who did what, why, and what each node answered.
 */
export const OperatorActionSchema = z.strictObject({
  schema: z.literal(`${WIRE_VERSION}.action`),
  action: z.enum(['drain', 'undrain']),
  /** The API token's name. */
  by: z.string().min(1).max(128),
  time: z.iso.datetime(),
  /** A node's name, or the label selector given. */
  target: z.string().min(1).max(1024),
  reason: z.string().max(1024).optional(),
  /** The guard's blockers overridden, with the reason given: set only when forced past them. */
  forced: z.strictObject({ reason: z.string().max(1024), blockers: z.number().int().min(1) }).optional(),
  answers: z.array(NodeAnswerSchema),
});
export type OperatorAction = z.infer<typeof OperatorActionSchema>;

import { createHash } from 'node:crypto';
import type { RuleSet } from './ast.js';
import { format } from './format.js';

/** A rule set's identity: the hex sha256 of its canonical text ({@link format}). */
export function ruleSetHash(ruleSet: RuleSet): string {
  return createHash('sha256').update(format(ruleSet)).digest('hex');
}

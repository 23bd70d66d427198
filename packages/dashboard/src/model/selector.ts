import {
  matchesSelector,
  parseSelector as parseLabelSelector,
  SelectorSyntaxError,
} from '@rhi/contracts/fleet';

/** A label selector's pairs, sorted by key (every pair must hold); none, every node. */
export type Selector = readonly (readonly [string, string])[];

/**
 * Parses a selector as the API and `rhictl` do (`site=par1,role=edge`, `@rhi/contracts`' grammar): its
 * pairs; none for a blank text; null when it is not a selector.
 */
export function parseSelector(text: string): Selector | null {
  if (text.trim() === '') return [];
  try {
    return parseLabelSelector(text).pairs;
  } catch (err) {
    if (err instanceof SelectorSyntaxError) return null;
    throw err;
  }
}

export const matches = (selector: Selector, labels: Readonly<Record<string, string>>): boolean =>
  matchesSelector({ pairs: selector }, labels);

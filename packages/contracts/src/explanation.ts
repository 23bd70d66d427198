import { z } from 'zod';

/**
 * Why a rule decided what it did, as a tree: one node per term of the rule's expression (`all(...)`,
 * `b:be_app`, ...), with its value and a detail such as `down (DOWN)` or `2 of 3 servers usable, need 3`.
 * The same shape as the rules language's `Explanation`, bounded by {@link EXPLANATION_LIMITS} on the wire.
 */
export interface ExplanationNode {
  readonly term: string;
  readonly value: boolean;
  readonly detail: string;
  readonly children: readonly ExplanationNode[];
  /** Children left out to respect {@link EXPLANATION_LIMITS} (the `detail` still sums them up: `1 of 5 terms hold`). */
  readonly omitted?: number;
}

/** The largest explanation a status carries per route: past these, children are cut (and counted). */
export const EXPLANATION_LIMITS = {
  /** Nodes in one route's tree, the root included. */
  maxNodes: 64,
  /** Levels below the root. */
  maxDepth: 16,
  /** Characters of one `term` or `detail`. */
  maxText: 256,
} as const;

const text = z.string().max(EXPLANATION_LIMITS.maxText);

export const ExplanationSchema: z.ZodType<ExplanationNode> = z.lazy(() =>
  z.strictObject({
    term: text,
    value: z.boolean(),
    detail: text,
    children: z.array(ExplanationSchema),
    omitted: z.number().int().min(1).optional(),
  }),
);

/** The explanation, cut to {@link EXPLANATION_LIMITS} breadth first: what a status may carry. */
export function boundExplanation(root: ExplanationNode): ExplanationNode {
  let budget = EXPLANATION_LIMITS.maxNodes - 1;
  const clip = (s: string): string =>
    s.length <= EXPLANATION_LIMITS.maxText ? s : `${s.slice(0, EXPLANATION_LIMITS.maxText - 1)}…`;
  interface Slot {
    readonly from: ExplanationNode;
    readonly depth: number;
    readonly children: ExplanationNode[];
    omitted: number;
  }
  const slot = (from: ExplanationNode, depth: number): Slot => ({ from, depth, children: [], omitted: 0 });
  const top = slot(root, 0);
  const queue: Slot[] = [top];
  const built = new Map<Slot, Slot[]>();
  for (let i = 0; i < queue.length; i++) {
    const s = queue[i]!;
    const kids: Slot[] = [];
    for (const child of s.from.children) {
      if (s.depth >= EXPLANATION_LIMITS.maxDepth || budget === 0) {
        s.omitted++;
        continue;
      }
      budget--;
      const k = slot(child, s.depth + 1);
      kids.push(k);
      queue.push(k);
    }
    built.set(s, kids);
  }
  const emit = (s: Slot): ExplanationNode => ({
    term: clip(s.from.term),
    value: s.from.value,
    detail: clip(s.from.detail),
    children: (built.get(s) ?? []).map(emit),
    ...(s.omitted > 0 ? { omitted: s.omitted } : {}),
  });
  return emit(top);
}

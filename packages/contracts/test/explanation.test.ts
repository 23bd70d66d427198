import { describe, expect, it } from 'vitest';
import type { ExplanationNode } from '../src/index.js';
import { boundExplanation, EXPLANATION_LIMITS, ExplanationSchema, HealthReportSchema } from '../src/index.js';

const leaf = (term: string, value = true): ExplanationNode => ({
  term,
  value,
  detail: value ? 'up' : 'down',
  children: [],
});
const any = (children: ExplanationNode[]): ExplanationNode => ({
  term: 'any(...)',
  value: children.some((c) => c.value),
  detail: `${children.filter((c) => c.value).length} of ${children.length} terms hold`,
  children,
});
const size = (e: ExplanationNode): number => 1 + e.children.reduce((n, c) => n + size(c), 0);
const depth = (e: ExplanationNode): number =>
  e.children.length === 0 ? 0 : 1 + Math.max(...e.children.map(depth));

describe('boundExplanation', () => {
  it('keeps a small tree as it is', () => {
    const tree = any([leaf('b:be_a'), leaf('b:be_b', false)]);
    expect(boundExplanation(tree)).toEqual(tree);
    expect(ExplanationSchema.safeParse(tree).success).toBe(true);
  });

  it('cuts a wide tree to maxNodes, breadth first, and counts what it left out', () => {
    const tree = any(Array.from({ length: 200 }, (_, i) => leaf(`b:be_${i}`)));
    const bounded = boundExplanation(tree);
    expect(size(bounded)).toBe(EXPLANATION_LIMITS.maxNodes);
    expect(bounded.children[0]?.term).toBe('b:be_0');
    expect(bounded.omitted).toBe(200 - (EXPLANATION_LIMITS.maxNodes - 1));
    expect(bounded.detail).toBe('200 of 200 terms hold');
    expect(ExplanationSchema.safeParse(bounded).success).toBe(true);
  });

  it('cuts a deep tree to maxDepth and clips long texts', () => {
    let tree = leaf('x'.repeat(1000));
    for (let i = 0; i < 40; i++) tree = any([tree]);
    const bounded = boundExplanation(tree);
    expect(depth(bounded)).toBe(EXPLANATION_LIMITS.maxDepth);
    expect(ExplanationSchema.safeParse(tree).success).toBe(false);
    expect(ExplanationSchema.safeParse(bounded).success).toBe(true);
  });
});

describe('HealthReportSchema', () => {
  const report = {
    schema: 'rhi.v1.health',
    node: 'lb1',
    time: '2026-12-02T08:00:00.000Z',
    seq: 3,
    reachable: true,
    pid: 4242,
    frontends: { fe_http: { up: true } },
    backends: { be_app: { up: true, serversUp: 2, serversTotal: 3 } },
    omitted: { frontends: 0, backends: 0 },
  };

  it('accepts a report and refuses more usable servers than servers, naming the field', () => {
    expect(HealthReportSchema.safeParse(report).success).toBe(true);
    const bad = HealthReportSchema.safeParse({
      ...report,
      backends: { be_app: { up: true, serversUp: 4, serversTotal: 3 } },
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]).toMatchObject({
      path: ['backends', 'be_app'],
      message: 'serversUp is larger than serversTotal',
    });
  });
});

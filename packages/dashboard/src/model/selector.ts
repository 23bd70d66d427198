/** A label selector as the API and `rhictl` write it: `site=par1,role=edge` (every pair must hold). */
export type Selector = readonly (readonly [string, string])[];

/** Parses a selector; null when it is not `key=value[,key=value...]` (an empty text is no selector). */
export function parseSelector(text: string): Selector | null {
  const t = text.trim();
  if (t === '') return [];
  const pairs: [string, string][] = [];
  for (const part of t.split(',')) {
    const m = /^\s*([\w.-]+)\s*=\s*([\w.-]*)\s*$/.exec(part);
    if (!m) return null;
    pairs.push([m[1]!, m[2]!]);
  }
  return pairs;
}

export function matches(selector: Selector, labels: Readonly<Record<string, string>>): boolean {
  return selector.every(([k, v]) => labels[k] === v);
}

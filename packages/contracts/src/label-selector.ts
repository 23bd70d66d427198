/** A parsed label selector: `key=value` pairs, every one of which a node's labels must have. */
export interface LabelSelector {
  /** By key, sorted by key. */
  readonly pairs: readonly (readonly [key: string, value: string])[];
}

/** What is wrong with a selector's text. */
export type SelectorProblem =
  'empty' | 'expectedKey' | 'expectedEquals' | 'expectedValue' | 'badCharacter' | 'tooLong' | 'duplicateKey';

/** A selector that cannot be parsed: the problem and the 1-based column where it is. */
export class SelectorSyntaxError extends Error {
  readonly code = 'SELECTOR_SYNTAX';
  constructor(
    readonly selector: string,
    readonly column: number,
    readonly problem: SelectorProblem,
    detail: string,
  ) {
    super(`label selector ${JSON.stringify(selector)}, column ${column}: ${detail}`);
    this.name = 'SelectorSyntaxError';
  }
}

const MAX_TOKEN = 64;
const isTokenChar = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95;
const isSpace = (c: number) => c === 32 || c === 9;

/**
 * Parses `key=value[,key=value...]` (e.g. `site=par1,role=edge`; blanks around the pairs are allowed).
 * Keys and values are NATS tokens: 1-64 letters, digits, `-` or `_`. A key given twice is an error (it
 * could match nothing). Throws {@link SelectorSyntaxError} naming the column. Pure.
 */
export function parseSelector(text: string): LabelSelector {
  const fail = (at: number, problem: SelectorProblem, detail: string): never => {
    throw new SelectorSyntaxError(text, at + 1, problem, detail);
  };
  const pairs = new Map<string, string>();
  let i = 0;
  const skip = () => {
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  };
  const token = (what: 'key' | 'value'): string => {
    const start = i;
    while (i < text.length && isTokenChar(text.charCodeAt(i))) i++;
    if (i === start) {
      if (i >= text.length)
        return fail(i, what === 'key' ? 'expectedKey' : 'expectedValue', `expected a ${what}, got the end`);
      return fail(
        i,
        what === 'key' ? 'expectedKey' : 'expectedValue',
        `expected a ${what} (letters, digits, - or _), got ${JSON.stringify(text[i])}`,
      );
    }
    if (i - start > MAX_TOKEN) fail(start, 'tooLong', `a ${what} is at most ${MAX_TOKEN} characters`);
    return text.slice(start, i);
  };
  skip();
  if (i === text.length) fail(i, 'empty', 'the selector is empty (target every node instead)');
  for (;;) {
    skip();
    const keyAt = i;
    const key = token('key');
    if (i < text.length && text[i] !== '=' && text[i] !== ',' && !isSpace(text.charCodeAt(i)))
      fail(i, 'badCharacter', `${JSON.stringify(text[i])} cannot be in a key; expected '='`);
    skip();
    if (text[i] !== '=') fail(i, 'expectedEquals', `expected '=' after the key '${key}'`);
    i++;
    skip();
    const value = token('value');
    if (pairs.has(key)) fail(keyAt, 'duplicateKey', `the key '${key}' is given twice`);
    pairs.set(key, value);
    if (i < text.length && text[i] !== ',' && !isSpace(text.charCodeAt(i)))
      fail(i, 'badCharacter', `${JSON.stringify(text[i])} cannot be in a value; expected ',' or the end`);
    skip();
    if (i === text.length) break;
    if (text[i] !== ',') fail(i, 'badCharacter', `expected ',' or the end, got ${JSON.stringify(text[i])}`);
    i++;
  }
  return { pairs: [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) };
}

/** The canonical text of a selector: pairs sorted by key, no blanks (the contracts' `LABEL_SELECTOR`). */
export function formatSelector(selector: LabelSelector): string {
  return selector.pairs.map(([k, v]) => `${k}=${v}`).join(',');
}

/** Whether a node's labels have every pair of the selector. Pure. */
export function matchesSelector(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of selector.pairs)
    if (!Object.hasOwn(labels, key) || labels[key] !== value) return false;
  return true;
}

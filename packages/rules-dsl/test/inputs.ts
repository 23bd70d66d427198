/** Inputs of the issue "agent: fail safe under operator mistakes" (point 4), made in memory. */

/** One rule of `count` copies of the same term: 20,000 make the 180 KB file that ran lint out of memory. */
export const repeatedTerms = (count: number) =>
  `198.18.200.1 = all(${new Array<string>(count).fill('b:be_x1').join(', ')})\n`;

/** `not(not(...(b:be_x)...))`, `depth` levels deep. */
export const deepNot = (depth: number) =>
  `198.18.200.1 = ${'not('.repeat(depth)}b:be_x${')'.repeat(depth)}\n`;

/** `count` short valid rules (about 18 bytes each, so that 200,000 stay under the default maxBytes). */
export function manyRules(count: number): string {
  const lines = new Array<string>(count);
  for (let i = 0; i < count; i++) lines[i] = `10.${i >> 16}.${(i >> 8) & 255}.${i & 255} = b:a`;
  return `${lines.join('\n')}\n`;
}

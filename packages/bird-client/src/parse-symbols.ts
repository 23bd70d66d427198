import type { BirdReply } from './reply-reader.js';

/** One symbol of BIRD's running configuration, from `show symbols`. */
export interface BirdSymbol {
  readonly name: string;
  /**
   * BIRD's word for what the symbol is: `protocol`, `filter`, `function`, `routing table`, `constant`,
   * `protocol template`, ...; `undefined` for a name the config only mentions (a keyword), which a new
   * definition may take.
   */
  readonly kind: string;
}

/** Reads `show symbols`: 1010 lines of `<name>\t<kind>`, the name padded with spaces to 8 characters. */
export function parseShowSymbols(reply: BirdReply): BirdSymbol[] {
  const symbols: BirdSymbol[] = [];
  for (const line of reply.lines) {
    if (line.code !== 1010) continue;
    const tab = line.text.indexOf('\t');
    if (tab < 0) continue;
    const name = line.text.slice(0, tab).trim();
    if (name) symbols.push({ name, kind: line.text.slice(tab + 1).trim() });
  }
  return symbols;
}

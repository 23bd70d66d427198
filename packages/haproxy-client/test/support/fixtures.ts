import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** A reply captured from HAProxy 2.6 by scripts/capture-fixtures.ts, byte for byte. */
export function fixture(name: string): string {
  return readFileSync(join(dir, name), 'utf8');
}

/** The captured reply without its terminating empty line, as `HaproxyClient` hands it to parsers. */
export function fixtureReply(name: string): string {
  const text = fixture(name);
  return text.endsWith('\n\n') ? text.slice(0, -1) : text;
}

/** Names of the captured error replies (`errors/*.txt`). */
export function errorFixtures(): string[] {
  return readdirSync(join(dir, 'errors')).map((f) => `errors/${f}`);
}

/** Every way to cut `bytes` in two, plus one byte at a time. */
export function splits(bytes: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (let i = 0; i <= bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  out.push([...bytes].map((b) => Uint8Array.of(b)));
  return out;
}

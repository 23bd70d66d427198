import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from '../src/index.js';
import { checkAnyText } from './check.js';

/** Inputs that once broke the parser, or are nasty: each must parse without throwing, diagnostics in range. */
const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'corpus');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.rules'))
  .sort();

describe('corpus', () => {
  it('is not empty', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files)('%s', (name) => {
    checkAnyText(readFileSync(join(dir, name), 'utf8'));
  });

  it('skips a byte order mark', () => {
    expect(parse(readFileSync(join(dir, 'bom.rules'), 'utf8'))).toMatchObject({
      ok: true,
      ruleSet: { rules: [{}] },
    });
  });
});

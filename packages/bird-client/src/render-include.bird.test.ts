import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { birdParse } from '../test/support/injector-pair.js';
import { goldenCases } from '../test/support/golden-cases.js';
import { ownedProtocols } from './render-include.js';

const goldenDir = join(import.meta.dirname, '..', 'test', 'fixtures', 'golden');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rhi-bird-golden-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A main config as an operator would write it: the include, and BGP exporting exactly our protocols. */
function mainConfig(include: string, v4: string[], v6: string[]): string {
  const filter = (names: string[]) =>
    names.length ? names.map((n) => `proto = "${n}"`).join(' || ') : 'false';
  return `router id 198.18.0.1;
protocol device {}
include "${include}";
protocol bgp peer1 {
  local 127.0.0.1 as 65001; neighbor 127.0.0.2 as 65001;
  ipv4 { import none; export where ${filter(v4)}; };
  ipv6 { import none; export where ${filter(v6)}; };
}
`;
}

describe('bird -p accepts every BIRD 2 golden include', () => {
  const bird2 = goldenCases.filter((c) => (c.layout.dialect ?? 'bird2') === 'bird2');
  it.each(bird2.map((c) => [c.name, c] as const))('%s', async (name, golden) => {
    const protocols = ownedProtocols(golden.layout);
    const config = join(dir, `${name}.main.conf`);
    await writeFile(
      config,
      mainConfig(
        join(goldenDir, `${name}.conf`),
        protocols.filter((p) => p.family === 'ipv4').map((p) => p.name),
        protocols.filter((p) => p.family === 'ipv6').map((p) => p.name),
      ),
    );
    const result = birdParse(config);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  it('and bird -p does reject a broken include (the check can fail)', async () => {
    const include = join(dir, 'broken.conf');
    await writeFile(include, 'protocol static vol1 {\n  route 198.18.10.1/32 via "lo";\n}\n');
    const config = join(dir, 'broken.main.conf');
    await writeFile(config, mainConfig(include, ['vol1'], []));
    const result = birdParse(config);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/Channel not specified/);
  });
});

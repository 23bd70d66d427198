import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkBirdConfig, ownedProtocols, renderInclude } from '@rhi/bird-client';
import { describe, expect, it } from 'vitest';
import { layoutFor } from '../src/app/bird-port.js';
import { parseConfig } from '../src/config/load.js';

const example = (name: string) => readFile(new URL(`../../../examples/${name}`, import.meta.url), 'utf8');

describe('the example BIRD config', () => {
  it('is accepted by the real bird with an include rendered from the example agent config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rhi-example-bird-'));
    try {
      const config = parseConfig(await example('agent.yaml'), 'examples/agent.yaml');
      const layout = layoutFor({ ...config.bird, tables: { ...config.bird.tables, vol2: {} } });
      const include = renderInclude(
        [
          { table: 'vol1', prefix: '198.18.200.1/32', family: 'ipv4', bgp: { med: 10 } },
          { table: 'vol2', prefix: '2001:db8:200::1/128', family: 'ipv6' },
        ],
        layout,
      );
      const includePath = join(dir, 'rhi-routes.conf');
      await writeFile(includePath, include.text);
      const birdConf = (await example('bird.conf')).replace('/run/rhi/rhi-routes.conf', includePath);
      await writeFile(join(dir, 'bird.conf'), birdConf);
      const run = spawnSync('bird', ['-p', '-c', join(dir, 'bird.conf')], { encoding: 'utf8' });
      expect(run.stderr + run.stdout).toBe('');
      expect(run.status).toBe(0);
      const check = checkBirdConfig([{ path: join(dir, 'bird.conf'), text: birdConf }], {
        includePath,
        protocols: ownedProtocols(layout).map((p) => p.name),
      });
      expect(check.problems).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const unit = fileURLToPath(new URL('../packaging/rhi-agent.service', import.meta.url));
const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const haveSystemd = analyze.status === 0;
if (!haveSystemd) console.warn('skipping the systemd unit check: systemd-analyze is not installed here');

describe('the systemd unit', () => {
  it.skipIf(!haveSystemd)('passes systemd-analyze verify: every line is taken, none ignored', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rhi-unit-'));
    try {
      await copyFile(unit, join(dir, 'rhi-agent.service'));
      const run = spawnSync('systemd-analyze', ['verify', join(dir, 'rhi-agent.service')], {
        encoding: 'utf8',
      });
      // The one complaint expected here: the agent is not installed on this machine.
      const complaints = (run.stderr + run.stdout)
        .split('\n')
        .filter((l) => l !== '' && !/Command \/usr\/bin\/rhi-agent is not executable/.test(l));
      expect(complaints).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('sets NODE_OPTIONS as one assignment (systemd splits unquoted values at spaces)', async () => {
    const line = (await readFile(unit, 'utf8')).split('\n').find((l) => l.includes('NODE_OPTIONS'));
    expect(line).toMatch(/^Environment="NODE_OPTIONS=[^"]+"$/);
  });
});

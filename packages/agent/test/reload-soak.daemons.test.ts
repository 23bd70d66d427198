import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spawnAgent, stopAgent } from './support/agent-process.js';
import type { ReloadStyle } from './support/reload-soak.js';
import { runReloadSoak } from './support/reload-soak.js';

// The short reload soak: the built agent (as the systemd unit starts it), 20 HAProxy reloads in each
// style under HTTP load, with real decisions on a flipping backend in between. The long one, with its
// latency figures, is bench/reload-soak.bench.ts (README, "Reload soak").

const built = existsSync(fileURLToPath(new URL('../dist/rhi-agent.mjs', import.meta.url)));
if (!built)
  console.warn(
    'reload-soak.daemons.test.ts: dist/ is missing; nx runs `build` before `test` (nx run @rhi/agent:test)',
  );

const styles: readonly ReloadStyle[] = ['master-worker', '-sf'];

describe.runIf(built)('the agent across HAProxy reloads', () => {
  it.each(styles)(
    '20 reloads (%s) under load: no false withdraw, no failed request, every real change made',
    async (style) => {
      const result = await runReloadSoak({
        style,
        reloads: 20,
        gapMs: [200, 600],
        flipGapMs: [300, 900],
        spawnAgent,
        stopAgent,
      });
      expect(result.workers).toBe(21);
      expect(result.falseWithdraws).toEqual([]);
      expect(result.unexplained).toEqual([]);
      expect(result.requests.failed, JSON.stringify(result.requests.errors)).toBe(0);
      expect(result.requests.ok).toBeGreaterThan(0);
      // Every kill and start of be_flip's server became exactly one change at the peer, each after
      // HAProxy's verdict.
      expect(result.flips).toBeGreaterThan(0);
      expect(result.decisionMs, result.flipTimeline.join('\n')).toHaveLength(result.flips);
      expect(result.agentWarnings).toEqual({});
    },
    120_000,
  );
});

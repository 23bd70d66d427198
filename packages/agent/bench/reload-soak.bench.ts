import { test } from 'vitest';
import { spawnAgent, stopAgent } from '../test/support/agent-process.js';
import type { ReloadStyle, SoakResult } from '../test/support/reload-soak.js';
import { runReloadSoak } from '../test/support/reload-soak.js';
import { startMachineJitter } from './machine-jitter.js';
import type { MachineJitter } from './machine-jitter.js';

// The reload soak (test/support/reload-soak.ts): the built agent, started as the systemd unit starts
// it, against a real HAProxy reloaded RHI_SOAK_RELOADS times (default 200) in each style at random
// intervals of 0.2-2 s, under steady HTTP load to its frontend, with rules on that frontend, on its
// backend and on 60 more backends (all up throughout), and a backend whose server is killed and started
// every 0.5-2 s. Counted at a BGP peer BIRD: false withdraws (goal 0), changes no HAProxy verdict
// explains (goal 0), and for each real change the time from HAProxy's verdict to the peer.

const RELOADS = Number(process.env.RHI_SOAK_RELOADS ?? 200);
const styles: readonly ReloadStyle[] = ['master-worker', '-sf'];

const percentile = (xs: readonly number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};

function rows(r: SoakResult, m: MachineJitter): string[] {
  const latency = [50, 90, 99, 100].map((p) => percentile(r.decisionMs, p).toFixed(1)).join(' / ');
  const errors = Object.entries(r.requests.errors).map(([k, n]) => `${k} x${n}`);
  const warnings = Object.entries(r.agentWarnings).map(([k, n]) => `${k} x${n}`);
  return [
    `${r.style}: ${r.reloads} reloads in ${r.seconds.toFixed(0)} s, ${r.workers} workers`,
    `  false withdraws at the peer: ${r.falseWithdraws.length}; changes no verdict explains: ${r.unexplained.length}`,
    `  HTTP requests: ${r.requests.ok} ok, ${r.requests.failed} failed${errors.length ? ` (${errors.join(', ')})` : ''}`,
    `  be_flip: ${r.flips} changes, ${r.decisionMs.length} at the peer; HAProxy's verdict to the peer p50 / p90 / p99 / max: ${latency} ms`,
    `  agent warnings: ${warnings.length ? warnings.join(', ') : 'none'}`,
    `  machine: a 1 ms sleeper woke ${[m.p50, m.p99, m.max].map((x) => x.toFixed(1)).join(' / ')} ms late (p50 / p99 / max), ${Math.round(m.stallsPerMinute)} times a minute over 5 ms`,
    ...[...r.falseWithdraws, ...r.unexplained].map(
      (e) => `  ! ${new Date(e.at).toISOString()} ${e.op} ${e.prefix}`,
    ),
  ];
}

test(`reload soak, ${RELOADS} reloads per style (goal: no false withdraw, no failed request)`, async () => {
  const out: string[] = [];
  for (const style of styles) {
    const jitter = startMachineJitter();
    const result = await runReloadSoak({
      style,
      reloads: RELOADS,
      gapMs: [200, 2000],
      flipGapMs: [500, 2000],
      spawnAgent,
      stopAgent,
      progress: (line) => console.log(line),
    }).finally(() => jitter.stop());
    out.push(...rows(result, await jitter.stop()));
  }
  console.log(out.join('\n'));
}, 3_600_000);

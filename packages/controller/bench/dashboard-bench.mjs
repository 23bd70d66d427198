/* global URL, console, document, fetch, performance, process, setTimeout, window, MutationObserver */
// The dashboard's benchmark (issue 17): 1,000 simulated agents (every node with a rule for each of 200
// VIPs) -> a real nats-server -> the real `rhi-controller run` in its own process -> the page in Debian's
// headless Chromium. Measures (1) the first render: navigation start to the first matrix cell in the
// page, over several fresh loads; (2) a status change to its cell changing in the page: the simulator's
// publish time to the page's DOM mutation of that VIP's cell for the node's group (wall clocks of the
// same machine). Prints a table and writes bench/dashboard-results.json. Usage:
//   node bench/dashboard-bench.mjs [nodes=1000] [vips=200] [loads=5] [changesPerS=2] [windowS=30]
import { fork } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNats, waitFor } from '@rhi/test-support';
import { chromium } from 'playwright-core';
import { startController } from './controller-process.mjs';
import { percentile } from './proc-stats.mjs';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const [nodesArg = '1000', vipsArg = '200', loadsArg = '5', changesArg = '2', windowArg = '30'] =
  process.argv.slice(2);
const N = Number(nodesArg);
const VIPS = Number(vipsArg);
const LOADS = Number(loadsArg);
const CHANGES_PER_S = Number(changesArg);
const WINDOW_S = Number(windowArg);
const HEARTBEAT_MS = 1000;
const TOKEN = 'bench-token-of-some-length';
const round = (n, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const ready = (child) => new Promise((resolve) => child.once('message', resolve));

/** Installed before the page's own script: the time of the first matrix cell, and every cell change. */
function observe() {
  window.__cells = [];
  window.__firstCell = null;
  new MutationObserver((records) => {
    const t = Date.now();
    for (const r of records) {
      if (window.__firstCell === null && document.querySelector('[data-cell]'))
        window.__firstCell = performance.now();
      if (r.type === 'attributes' && r.target.getAttribute)
        window.__cells.push([t, r.target.getAttribute('aria-label') ?? '']);
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-label'] });
}

const dir = await mkdtemp(join(tmpdir(), 'rhi-dashboard-bench-'));
const nats = await startNats();
const children = [];
let browser = null;
let result;
try {
  const { base } = await startController({
    dir,
    nats,
    token: TOKEN,
    role: 'viewer',
    heartbeatMs: HEARTBEAT_MS,
    children,
  });
  const sim = fork(here('./simulator.mjs'), [
    nats.url,
    nats.user,
    nats.password,
    String(N),
    String(VIPS),
    String(VIPS),
    String(HEARTBEAT_MS),
    String(CHANGES_PER_S),
  ]);
  children.push(sim);
  const changes = [];
  let measuring = false;
  sim.on('message', (m) => {
    if (measuring && typeof m === 'object' && 'change' in m) changes.push(m);
  });
  await ready(sim);
  await waitFor(
    `the controller to see ${N} nodes`,
    async () => {
      const res = await fetch(`${base}/api/v1/nodes`, { headers: { authorization: `Bearer ${TOKEN}` } });
      return (await res.json()).nodes?.length === N ? true : undefined;
    },
    120_000,
    1000,
  );
  const matrixBytes = (
    await (await fetch(`${base}/api/v1/matrix`, { headers: { authorization: `Bearer ${TOKEN}` } })).text()
  ).length;

  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const renders = [];
  for (let i = 0; i < LOADS; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.addInitScript(observe);
    await page.goto(`${base}/ui/#token=${TOKEN}`);
    await page.waitForFunction(() => window.__firstCell !== null, null, { timeout: 30_000 });
    renders.push(await page.evaluate(() => window.__firstCell));
    if (i < LOADS - 1) await context.close();
    else {
      // The last page stays open for the changes; its cells are the groups' (1,000 nodes, collapsed).
      await page.waitForTimeout(2000);
      await page.evaluate(() => (window.__cells.length = 0));
      measuring = true;
      sim.send('changes');
      await page.waitForTimeout(WINDOW_S * 1000);
      measuring = false;
      await page.waitForTimeout(2000);
      const cells = await page.evaluate(() => window.__cells);
      const group = (node) => `site${Number(node.slice(2)) % 4}`;
      const lags = [];
      let unmatched = 0;
      for (const c of changes) {
        const prefix = `${group(c.change)}, vol1%${c.vip}: `;
        const seen = cells.find(([t, label]) => t >= c.at - 1 && label.startsWith(prefix));
        if (seen) lags.push(seen[0] - c.at);
        else unmatched++;
      }
      lags.sort((a, b) => a - b);
      result = {
        at: new Date().toISOString(),
        cpus: cpus().length,
        loadAverage1m: round(loadavg()[0], 2),
        nodes: N,
        vips: VIPS,
        cellsPerRow: N,
        matrixBytes,
        firstRenderMs: {
          loads: renders.length,
          median: round(
            percentile(
              [...renders].sort((a, b) => a - b),
              50,
            ),
          ),
          max: round(Math.max(...renders)),
          all: renders.map((r) => round(r)),
        },
        changeToPageMs: {
          changes: changes.length,
          unmatched,
          p50: round(percentile(lags, 50)),
          p99: round(percentile(lags, 99)),
          max: round(lags.at(-1) ?? NaN),
        },
      };
      await context.close();
    }
  }
} finally {
  await browser?.close();
  for (const c of children) {
    c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    if (c.exitCode === null) c.kill('SIGKILL');
  }
  await nats.stop();
  await rm(dir, { recursive: true, force: true });
}

console.log(JSON.stringify(result, null, 2));
console.log(
  `dashboard at ${N} nodes x ${VIPS} VIPs: first render median ${result.firstRenderMs.median} ms (max ${result.firstRenderMs.max}, target < 1000); ` +
    `status change -> page p50 ${result.changeToPageMs.p50} ms, p99 ${result.changeToPageMs.p99} ms (target < 1000), ` +
    `${result.changeToPageMs.changes} changes, ${result.changeToPageMs.unmatched} unmatched`,
);
await writeFile(here('./dashboard-results.json'), `${JSON.stringify(result, null, 2)}\n`);

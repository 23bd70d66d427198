import { mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { publicKeyFrom } from '@rhi/contracts';
import { freePort, holdPort, startNats, waitFor, type NatsInstance } from '@rhi/test-support';
import pino from 'pino';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ControllerConfigSchema } from '../src/config/schema.js';
import { writeKeyPair } from '../src/config/signing-key.js';
import { tokenHash } from '../src/http/auth.js';
import { ControllerRuntime } from '../src/runtime.js';
import { SimulatedAgent } from './support/simulated-agent.js';
import { route, withdrawn } from './support/statuses.js';

// The dashboard in Debian's headless Chromium, driven by playwright-core, against a controller on a real
// nats-server with simulated agents (real NATS clients): the matrix shows each state, a backend's death
// turns its cell and raises an alert, a viewer cannot act, the page survives a controller restart, and it
// fits a phone. Screenshots of the main views go to .screenshots/ at the repository's root.

const CHROMIUM = '/usr/bin/chromium';
const OPERATOR = 'operator-token-of-some-length';
const VIEWER = 'viewer-token-of-some-length';
const VIP1 = '198.18.230.1/32';
const VIP2 = '198.18.230.2/32';
const id = (prefix: string) => `vol1%${prefix}`;
const SHOTS = resolve(import.meta.dirname, '../../../.screenshots');

describe('the dashboard in Chromium', () => {
  let nats: NatsInstance;
  let dir: string;
  let trusted: Map<string, ReturnType<typeof publicKeyFrom>>;
  let port: number;
  let controller: ControllerRuntime;
  let browser: Browser;
  let context: BrowserContext | null = null;
  const agents: SimulatedAgent[] = [];
  const errors: string[] = [];
  /** What Chromium may log in this test (a refused token's 401s, the reconnects to a stopped controller). */
  let expected: RegExp | null = null;

  const startController = async () => {
    const config = ControllerConfigSchema.parse({
      nats: { servers: [nats.url], user: nats.user, password: nats.password },
      api: {
        listen: `127.0.0.1:${port}`,
        tokens: [
          { name: 'alice', role: 'operator', sha256: tokenHash(OPERATOR) },
          { name: 'victor', role: 'viewer', sha256: tokenHash(VIEWER) },
        ],
      },
      rules: { signingKey: join(dir, 'signing.key'), keyId: 'ops-2026' },
      fleet: { heartbeatMs: 1000, leaseTtlMs: 1500, minimumAdvertisers: { default: 2 } },
    });
    const r = await ControllerRuntime.start({
      config,
      logger: pino({ level: (process.env.RHI_TEST_LOG as 'info') ?? 'silent' }),
      version: 'test',
    });
    await waitFor('the controller to reach NATS', async () => {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      return res.status === 200 ? true : undefined;
    });
    return r;
  };
  const url = (token: string, path = '/ui/') => `http://127.0.0.1:${port}${path}#token=${token}`;
  /** A fresh page (own session storage) that records what goes wrong in it. */
  const open = async (width = 1280, height = 800): Promise<Page> => {
    context = await browser.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    return page;
  };
  const cell = (page: Page, node: string, vip: string) =>
    page.locator(`[data-cell][aria-label^="${node}, ${vip}: "]`);
  const shoot = async (page: Page, name: string) => {
    const file = join(SHOTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    expect((await stat(file)).size).toBeGreaterThan(10_000);
  };
  const agent = (i: number) => agents[i - 1]!;

  beforeAll(async () => {
    await stat(CHROMIUM).catch(() => {
      throw new Error(`${CHROMIUM} is missing: scripts/setup.sh installs Debian's chromium`);
    });
    await mkdir(SHOTS, { recursive: true });
    nats = await startNats();
    dir = await mkdtemp(join(tmpdir(), 'rhi-dashboard-'));
    const { publicFile } = await writeKeyPair(join(dir, 'signing'));
    trusted = new Map([['ops-2026', publicKeyFrom(await readFile(publicFile, 'utf8'))]]);
    port = await freePort();
    controller = await startController();
    const sites = ['par1', 'par1', 'ams1'];
    for (let i = 1; i <= 3; i++)
      agents.push(
        await SimulatedAgent.start(nats, `lb-${i}`, {
          trusted,
          labels: { site: sites[i - 1]! },
          routes: () =>
            i === 3
              ? [route(VIP1, { since: new Date().toISOString() })]
              : [route(VIP1), route(VIP2, { since: new Date().toISOString() })],
        }),
      );
    await waitFor('every agent in the view', () =>
      agents.every((a) => controller.view.node(a.node)) ? true : undefined,
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 60_000);

  afterEach(async () => {
    await context?.close();
    context = null;
    const seen = errors.splice(0).filter((e) => !expected?.test(e));
    expected = null;
    expect(seen).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    for (const a of agents) await a.stop();
    await controller?.stop();
    await nats?.stop();
  });

  it('asks for a token, refuses a wrong one, and shows the matrix once given a good one', async () => {
    expected = /status of 401/;
    const page = await open();
    await page.goto(`http://127.0.0.1:${port}/ui/`);
    await page.getByLabel('API token').fill('not-a-token-of-this-controller');
    await page.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/token/i);
    await page.getByLabel('API token').fill(OPERATOR);
    await page.getByRole('button', { name: 'Open' }).click();
    await page.locator('table.matrix').waitFor();
    await expect.poll(() => page.locator('.who').textContent()).toContain('alice');
  });

  it('shows each node’s state of each VIP in the matrix, with text as well as colour', async () => {
    const page = await open();
    await page.goto(url(OPERATOR));
    await cell(page, 'lb-1', id(VIP1)).waitFor();
    expect(new URL(page.url()).hash).not.toContain('token');
    for (const n of ['lb-1', 'lb-2', 'lb-3'])
      expect(await cell(page, n, id(VIP1)).getAttribute('data-cell')).toBe('A');
    expect(await cell(page, 'lb-1', id(VIP2)).getAttribute('data-cell')).toBe('A');
    expect(await cell(page, 'lb-1', id(VIP1)).textContent()).toContain('✓');
    expect(await page.locator('table.matrix').getByText('ams1').count()).toBeGreaterThan(0);
    await shoot(page, 'matrix');
  });

  it('turns a cell when a backend dies, raises the alert, and explains the cell', async () => {
    const page = await open();
    await page.goto(url(OPERATOR));
    await cell(page, 'lb-2', id(VIP2)).waitFor();
    const published = Date.now();
    agent(2).publishStatus([route(VIP1), withdrawn(VIP2, { since: new Date().toISOString() })]);
    await expect
      .poll(() => cell(page, 'lb-2', id(VIP2)).getAttribute('data-cell'), { timeout: 10_000 })
      .toBe('W');
    console.log(
      `dashboard: a withdrawn cell turned ${Date.now() - published} ms after the status was published`,
    );
    await page.locator('li.alert[data-kind="vipBelowMinimum"]').waitFor({ timeout: 10_000 });
    await cell(page, 'lb-2', id(VIP2)).click();
    const detail = page.locator('section[aria-label="detail"]');
    await expect.poll(() => detail.textContent()).toContain('b:be_app');
    await shoot(page, 'withdrawn-detail');
    agent(2).publishStatus();
    await expect
      .poll(() => cell(page, 'lb-2', id(VIP2)).getAttribute('data-cell'), { timeout: 10_000 })
      .toBe('A');
  });

  it('shows a lost connection and picks up again after the controller restarts', async () => {
    expected = /ERR_CONNECTION|ERR_EMPTY_RESPONSE|Failed to load resource|ERR_SOCKET/;
    const page = await open();
    await page.goto(url(VIEWER));
    await page.locator('[data-stream="live"]').waitFor();
    await controller.stop();
    const hold = await holdPort(port);
    await page.locator('[data-stream="lost"]').waitFor({ timeout: 15_000 });
    await hold.release();
    controller = await startController();
    await page.locator('[data-stream="live"]').waitFor({ timeout: 15_000 });
    agent(3).publishStatus([withdrawn(VIP1, { since: new Date().toISOString() })]);
    await expect
      .poll(() => cell(page, 'lb-3', id(VIP1)).getAttribute('data-cell'), { timeout: 10_000 })
      .toBe('W');
    agent(3).publishStatus();
    await expect
      .poll(() => cell(page, 'lb-3', id(VIP1)).getAttribute('data-cell'), { timeout: 10_000 })
      .toBe('A');
  }, 60_000);

  /** Stores a rule set over the API (each version names one more VIP, so that every hash differs). */
  let version = 0;
  const upload = async () => {
    version++;
    const source = `${VIP1} = all(b:be_app)\n${VIP2} = all(b:be_app)\n198.18.231.${version} = all(b:be_app)\n`;
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/rulesets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
      body: JSON.stringify({ source, message: `version ${version}` }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { ruleset: { serial: number; hash: string } }).ruleset;
  };

  it('lets a viewer see the rollouts but offers no action', async () => {
    await upload();
    const page = await open();
    await page.goto(url(VIEWER, '/ui/'));
    await page.getByRole('link', { name: 'rollouts' }).click();
    const section = page.locator('section[aria-label="rollouts"]');
    await section.locator('.read-only').waitFor();
    expect(await section.locator('.read-only').textContent()).toContain('viewer token');
    for (const name of ['What if', 'Start rollout', 'Pause', 'Abort', 'Roll back'])
      expect(await page.getByRole('button', { name, exact: true }).count()).toBe(0);
  });

  it('starts a rollout from the page after its what-if, shows it progress, and rolls it back on abort', async () => {
    const good = await upload();
    for (const a of agents) {
      a.running = { ...good };
      a.publishStatus();
    }
    const next = await upload();
    const page = await open();
    await page.goto(url(OPERATOR, '/ui/'));
    await page.getByRole('link', { name: 'rollouts' }).click();
    const form = page.locator('section[aria-label="start a rollout"]');
    await form.locator('select[name="serial"]').selectOption(String(next.serial));
    await form.locator('input[name="canary"]').fill('1');
    await form.locator('input[name="soak"]').fill('10m');
    await page.getByRole('button', { name: 'What if', exact: true }).click();
    await page.locator('[aria-label="what if"]').waitFor();
    await page.getByRole('button', { name: 'Start rollout', exact: true }).click();
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    const detail = page.locator('article[data-rollout]');
    await expect.poll(() => detail.getAttribute('data-status'), { timeout: 15_000 }).toBe('soaking');
    expect(await detail.locator('li[data-node-state="applied"]').count()).toBe(1);
    await shoot(page, 'rollout-soaking');
    await page.getByRole('button', { name: 'Abort', exact: true }).click();
    await page.locator('dialog input[name="reason"]').fill('not today');
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await expect.poll(() => detail.getAttribute('data-status'), { timeout: 15_000 }).toBe('rolledBack');
    await waitFor('every node back on the good rules', () =>
      agents.every((a) => a.running?.hash === good.hash) ? true : undefined,
    );
    await shoot(page, 'rollout-rolled-back');
  }, 60_000);

  it('drains a node from its detail past the guard, shows its answer, and undrains it', async () => {
    expected = /status of 409/;
    const page = await open();
    await page.goto(url(OPERATOR));
    await page
      .locator('table.matrix button', { hasText: /^lb-1$/ })
      .first()
      .click();
    const detail = page.locator('section[aria-label="detail"]');
    await detail.getByRole('button', { name: 'Drain…', exact: true }).click();
    await page.locator('dialog input[name="reason"]').fill('kernel upgrade');
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    // lb-1 and lb-2 are VIP2's only advertisers, and its minimum is 2: the guard blocks.
    const blocked = detail.locator('[aria-label="drain blocked"]');
    await blocked.waitFor();
    expect(await blocked.textContent()).toContain(`BLOCKED ${id(VIP2)}: 2 -> 1 advertisers, minimum 2`);
    expect(await detail.locator('[data-error="DRAIN_BLOCKED"]').count()).toBe(1);
    expect(agent(1).drained).toBeNull();
    await detail.getByRole('button', { name: 'Drain anyway', exact: true }).click();
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await expect.poll(() => page.locator('dialog .field-error').textContent()).toContain('say why');
    await page.locator('dialog input[name="force"]').fill('planned window');
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    const answer = detail.locator('[aria-label="drain answer"]');
    await answer.waitFor({ timeout: 10_000 });
    expect(await answer.getAttribute('data-result')).toBe('applied');
    expect(await answer.textContent()).toContain('lb-1 drained');
    expect(await answer.textContent()).toContain('FORCED past 1 blocker: planned window');
    expect(agent(1).drained).toEqual({ reason: 'kernel upgrade' });
    await detail.getByRole('button', { name: 'Undrain', exact: true }).waitFor({ timeout: 10_000 });
    await shoot(page, 'node-drained');
    await detail.getByRole('button', { name: 'Undrain', exact: true }).click();
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await expect.poll(() => answer.textContent(), { timeout: 10_000 }).toContain('lb-1 undrained');
    expect(agent(1).drained).toBeNull();
    await detail.getByRole('button', { name: 'Drain…', exact: true }).waitFor({ timeout: 10_000 });
  }, 30_000);

  it('offers a viewer no drain in the node detail', async () => {
    const page = await open();
    await page.goto(url(VIEWER));
    await page
      .locator('table.matrix button', { hasText: /^lb-2$/ })
      .first()
      .click();
    const detail = page.locator('section[aria-label="detail"]');
    await detail.locator('.read-only').waitFor();
    expect(await detail.locator('.read-only').textContent()).toContain('read only: viewer token');
    for (const name of ['Drain…', 'Undrain', 'Drain anyway'])
      expect(await detail.getByRole('button', { name, exact: true }).count()).toBe(0);
  });

  it('shows the timeline of what happened before, with its charts, and filters it by kind', async () => {
    const page = await open();
    await page.goto(url(VIEWER, '/ui/'));
    await page.getByRole('link', { name: 'timeline' }).click();
    const section = page.locator('section[aria-label="timeline"]');
    // The earlier tests' VIP below its minimum, opened and closed, and their rollouts.
    await section.locator('li[data-event-kind="alertOpened"]').first().waitFor({ timeout: 10_000 });
    expect(await section.locator('li[data-event-kind="alertClosed"]').count()).toBeGreaterThan(0);
    expect(await section.locator('li[data-event-kind^="rollout."]').count()).toBeGreaterThan(0);
    for (const chart of ['advertisers', 'transitions'])
      expect(await section.locator(`figure[data-chart="${chart}"] figcaption`).textContent()).not.toBe('');
    await shoot(page, 'timeline');
    await section.getByLabel('kind').selectOption('alert');
    await expect
      .poll(() => section.locator('li[data-event-kind^="rollout."]').count(), { timeout: 10_000 })
      .toBe(0);
    expect(await section.locator('li[data-event-kind="alertOpened"]').count()).toBeGreaterThan(0);
  });

  it('fits a phone-width screen: no sideways scroll of the page, the matrix scrolls in its box', async () => {
    const page = await open(390, 844);
    await page.goto(url(VIEWER));
    await cell(page, 'lb-1', id(VIP1)).waitFor();
    // The page's own code, run in Chromium (this file is typed without the DOM).
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    if (width > 390)
      console.log(
        await page.evaluate<string>(`[...document.querySelectorAll('body *')]
          .filter((e) => e.getBoundingClientRect().right > 390).slice(0, 12)
          .map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
          .join('\\n')`),
      );
    expect(width).toBeLessThanOrEqual(390);
    await shoot(page, 'phone');
  });
});

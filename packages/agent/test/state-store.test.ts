import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StateProblem } from '../src/state/state-store.js';
import { StateStore } from '../src/state/state-store.js';

describe('state store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rhi-state-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips the drain state and the last good rule set, leaving no temp files', async () => {
    const store = new StateStore(dir);
    await store.saveDrain({
      schema: 'rhi.v1.drain',
      drained: true,
      reason: 'kernel upgrade',
      since: '2026-11-24T05:00:00.000Z',
    });
    await store.saveRuleSet({
      schema: 'rhi.v1.persisted-ruleset',
      source: 'file',
      file: '/etc/rhi/rules.cfg',
      text: '198.18.200.1 = true\n',
      hash: 'ab',
    });
    expect(await store.loadDrain()).toMatchObject({ drained: true, reason: 'kernel upgrade' });
    expect(await store.loadRuleSet()).toMatchObject({ source: 'file', text: '198.18.200.1 = true\n' });
    expect((await readdir(dir)).sort()).toEqual(['drain.json', 'ruleset.json']);
  });

  it('reads a missing file as absent without a problem', async () => {
    const problems: StateProblem[] = [];
    expect(await new StateStore(dir).loadDrain(problems)).toBeNull();
    expect(problems).toEqual([]);
  });

  it.each([
    ['truncated JSON', '{"schema":"rhi.v1.drain","drai', 'not JSON'],
    [
      'a wrong shape',
      '{"schema":"rhi.v1.drain","drained":"yes","since":"2026-11-24T05:00:00.000Z"}',
      'drained',
    ],
  ])('reads %s as absent and reports the problem', async (_, content, reason) => {
    await writeFile(join(dir, 'drain.json'), content);
    const problems: StateProblem[] = [];
    expect(await new StateStore(dir).loadDrain(problems)).toBeNull();
    expect(problems[0]?.file).toBe(join(dir, 'drain.json'));
    expect(problems[0]?.reason).toContain(reason);
  });

  it('replaces a file whole', async () => {
    const store = new StateStore(dir);
    await store.saveDrain({ schema: 'rhi.v1.drain', drained: true, since: '2026-11-24T05:00:00.000Z' });
    await store.saveDrain({ schema: 'rhi.v1.drain', drained: false, since: '2026-11-24T06:00:00.000Z' });
    expect(JSON.parse(await readFile(join(dir, 'drain.json'), 'utf8'))).toEqual({
      schema: 'rhi.v1.drain',
      drained: false,
      since: '2026-11-24T06:00:00.000Z',
    });
  });
});

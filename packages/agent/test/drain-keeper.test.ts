import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DrainKeeper } from '../src/app/drain-keeper.js';
import type { PersistedDrain } from '../src/core/state-files.js';
import { StateStore } from '../src/state/state-store.js';
import { recordingLogger } from './support/fakes.js';

const now = () => new Date('2026-12-02T10:00:00.000Z');

/** The loop's drain switch, as the keeper drives it. */
class FakeDrainLoop {
  drained: string | null = null;
  readonly calls: string[] = [];
  drain(reason: string, options: { waitSessions?: number; timeoutMs?: number } = {}): void {
    this.calls.push(`drain ${reason} ${JSON.stringify(options)}`);
    this.drained ??= reason;
  }
  undrain(): void {
    this.calls.push('undrain');
    this.drained = null;
  }
}

/** Fails loudly when a drain file is written before the loop is in the state it tells. */
class CheckingStore {
  readonly written: PersistedDrain[] = [];
  fail = false;
  constructor(private readonly loop: FakeDrainLoop) {}
  saveDrain(value: PersistedDrain): Promise<void> {
    if (value.drained !== (this.loop.drained !== null))
      throw new Error(`drain file (drained: ${value.drained}) written before the loop took it`);
    if (this.fail) return Promise.reject(new Error('EROFS: read-only file system'));
    this.written.push(value);
    return Promise.resolve();
  }
}

describe('drain keeper', () => {
  it('drains the loop first, then writes the drain file; undrain likewise', async () => {
    const loop = new FakeDrainLoop();
    const store = new CheckingStore(loop);
    const keeper = new DrainKeeper({ loop, store, logger: recordingLogger().logger, now });
    await keeper.drain({ reason: 'kernel', waitSessions: 2, timeoutMs: 5000 });
    await keeper.undrain();
    await keeper.drain({});
    expect(loop.calls).toEqual([
      'drain kernel {"waitSessions":2,"timeoutMs":5000}',
      'undrain',
      'drain drain requested {}',
    ]);
    expect(store.written).toEqual([
      { schema: 'rhi.v1.drain', drained: true, reason: 'kernel', since: '2026-12-02T10:00:00.000Z' },
      { schema: 'rhi.v1.drain', drained: false, since: '2026-12-02T10:00:00.000Z' },
      { schema: 'rhi.v1.drain', drained: true, reason: 'drain requested', since: '2026-12-02T10:00:00.000Z' },
    ]);
  });

  it('a failed write is logged and the drain stays in force', async () => {
    const loop = new FakeDrainLoop();
    const store = new CheckingStore(loop);
    store.fail = true;
    const { logger, records } = recordingLogger();
    await new DrainKeeper({ loop, store, logger, now }).drain({ reason: 'kernel' });
    expect(loop.drained).toBe('kernel');
    expect(records.filter((r) => r['event'] === 'stateWriteFailed')).toMatchObject([
      { level: 40, op: 'saveDrain', err: { message: 'EROFS: read-only file system' } },
    ]);
  });

  it('restores a drain at boot without writing, and nothing for an undrained node', () => {
    const loop = new FakeDrainLoop();
    const store = new CheckingStore(loop);
    const keeper = new DrainKeeper({ loop, store, logger: recordingLogger().logger, now });
    keeper.restore(null);
    keeper.restore({ schema: 'rhi.v1.drain', drained: false, since: now().toISOString() });
    expect(loop.calls).toEqual([]);
    keeper.restore({ schema: 'rhi.v1.drain', drained: true, since: now().toISOString() });
    expect(loop.calls).toEqual(['drain drained before restart {}']);
    expect(store.written).toEqual([]);
  });

  describe('with the state dir', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'rhi-drain-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('the last of quick drains and undrains is what a restart reads back, with no temp file left', async () => {
      const loop = new FakeDrainLoop();
      const keeper = new DrainKeeper({
        loop,
        store: new StateStore(dir),
        logger: recordingLogger().logger,
        now,
      });
      await Promise.all([keeper.drain({ reason: 'one' }), keeper.undrain(), keeper.drain({ reason: 'two' })]);
      expect(await readdir(dir)).toEqual(['drain.json']);
      expect(JSON.parse(await readFile(join(dir, 'drain.json'), 'utf8'))).toMatchObject({
        drained: true,
        reason: 'two',
      });
      const after = new FakeDrainLoop();
      new DrainKeeper({
        loop: after,
        store: new StateStore(dir),
        logger: recordingLogger().logger,
        now,
      }).restore(await new StateStore(dir).loadDrain());
      expect(after.drained).toBe('two');
    });
  });
});

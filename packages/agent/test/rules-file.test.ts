import { describe, expect, it } from 'vitest';
import type { RulesFileVersion } from '../src/app/rules-file.js';
import { settleStep } from '../src/app/rules-file.js';

const version = (over: Partial<RulesFileVersion> = {}): RulesFileVersion => ({
  ino: 7n,
  size: 30n,
  mtimeNs: 1_000n,
  bytes: Buffer.from('198.18.200.1 = all(b:be_app)\n'),
  stable: true,
  ...over,
});
const SETTLE = 2000;

describe('when the rules file watcher takes a change', () => {
  it('takes a new file renamed into place at once', () => {
    expect(settleStep({ takenIno: 7n, pending: null }, version({ ino: 8n }), 0, SETTLE)).toEqual({
      action: 'take',
      how: 'renamed',
    });
    // Even while another version waited to settle.
    const pending = { ...version({ size: 0n, bytes: Buffer.from('') }), since: 0 };
    expect(settleStep({ takenIno: 7n, pending }, version({ ino: 8n }), 10, SETTLE)).toMatchObject({
      action: 'take',
    });
  });

  it('waits on a new file that is empty or changed while it was read: a writer may not be done', () => {
    for (const seen of [
      version({ ino: 8n, size: 0n, bytes: Buffer.from('') }),
      version({ ino: 8n, stable: false }),
    ])
      expect(settleStep({ takenIno: 7n, pending: null }, seen, 0, SETTLE)).toEqual({
        action: 'wait',
        ms: SETTLE,
        changed: true,
      });
  });

  it('takes a file written in place only once it stayed the same for the settle period', () => {
    const truncated = version({ size: 0n, mtimeNs: 2_000n, bytes: Buffer.from('') });
    let step = settleStep({ takenIno: 7n, pending: null }, truncated, 0, SETTLE);
    expect(step).toEqual({ action: 'wait', ms: SETTLE, changed: true });
    // Written again 500 ms later (what `cp`, `cat >` and scp do): the wait starts over.
    const written = version({ size: 60n, mtimeNs: 3_000n, bytes: Buffer.from(`${'x'.repeat(59)}\n`) });
    step = settleStep({ takenIno: 7n, pending: { ...truncated, since: 0 } }, written, 500, SETTLE);
    expect(step).toEqual({ action: 'wait', ms: SETTLE, changed: true });
    const pending = { ...written, since: 500 };
    expect(settleStep({ takenIno: 7n, pending }, written, 1500, SETTLE)).toEqual({
      action: 'wait',
      ms: 1000,
      changed: false,
    });
    expect(settleStep({ takenIno: 7n, pending }, written, 2500, SETTLE)).toEqual({
      action: 'take',
      how: 'settled',
    });
  });

  it('starts the wait over when the content changed but not the size or mtime', () => {
    const pending = { ...version(), since: 0 };
    expect(
      settleStep(
        { takenIno: 7n, pending },
        version({ bytes: Buffer.from('198.18.200.2 = all(b:be_app)\n') }),
        5000,
        SETTLE,
      ),
    ).toEqual({
      action: 'wait',
      ms: SETTLE,
      changed: true,
    });
  });
});

import { KvWatchInclude, type KV } from '@nats-io/kv';
import type { RolloutRecord } from '@rhi/contracts';
import { decodeRolloutRecord } from './rollout-store.js';

/**
 * Watches every rollout record in the rollout bucket: each one's latest at the start, then each change.
 * `onRecord` gets each record read, `onUnreadable` the error of bytes that are not one. Ends when
 * `signal` aborts.
 */
export async function watchRollouts(
  kv: KV,
  handlers: { onRecord: (r: RolloutRecord) => void; onUnreadable: (err: Error) => void },
  signal: AbortSignal,
): Promise<void> {
  const watch = await kv.watch({ key: 'rollout.>', include: KvWatchInclude.LastValue });
  const stop = () => watch.stop();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const e of watch) {
      if (e.operation !== 'PUT') continue;
      try {
        handlers.onRecord(decodeRolloutRecord(e.value, e.key));
      } catch (err) {
        handlers.onUnreadable(err as Error);
      }
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

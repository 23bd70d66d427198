import { KvWatchInclude, type KV } from '@nats-io/kv';

const PREFIX = 'assign.';

/**
 * Watches every node's assignment in the rule-set bucket: first the values held, then each change.
 * `onAssignment` gets the node and the parsed value (a string saying why for bytes that are not JSON),
 * or null for a deleted key. Ends when `signal` aborts.
 */
export async function watchAssignments(
  kv: KV,
  onAssignment: (node: string, value: unknown) => void,
  signal: AbortSignal,
): Promise<void> {
  const watch = await kv.watch({ key: `${PREFIX}>`, include: KvWatchInclude.LastValue });
  const stop = () => watch.stop();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const e of watch) {
      const node = e.key.slice(PREFIX.length);
      if (e.operation !== 'PUT') onAssignment(node, null);
      else {
        let value: unknown;
        try {
          value = e.json();
        } catch (err) {
          value = `not JSON: ${(err as Error).message}`;
        }
        onAssignment(node, value);
      }
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

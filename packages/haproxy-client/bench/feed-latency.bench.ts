import { afterAll, beforeAll, test } from 'vitest';
import type { FeedEvent, SnapshotEvent } from '../src/index.js';
import { HaproxyClient } from '../src/index.js';
import { FeedRecorder } from '../test/support/feed-recorder.js';
import type { Backends, HaproxyInstance } from '@rhi/test-support';
import { startBackends, startHaproxy } from '@rhi/test-support';

// Time from a server state change in HAProxy (`disable server` / `enable server` sent) to the feed
// yielding the snapshot that shows it.
let backends: Backends;
let haproxy: HaproxyInstance;
let client: HaproxyClient;
let polling: FeedRecorder;
let events: FeedRecorder;

beforeAll(async () => {
  backends = await startBackends(1);
  const port = backends.ports[0]!;
  haproxy = await startHaproxy({
    masterWorker: false,
    sections: (dir) =>
      `frontend fe\n    bind unix@${dir}/fe.sock\n    default_backend be\nbackend be\n    server s1 127.0.0.1:${port}\n`,
  });
  client = new HaproxyClient({ socket: haproxy.adminSocket });
  polling = new FeedRecorder(client, { intervalMs: 250 });
  events = new FeedRecorder(client, { intervalMs: 60_000, eventsRing: 'events' });
  await new Promise((r) => setTimeout(r, 300));
});

afterAll(async () => {
  await polling?.stop();
  await events?.stop();
  await haproxy?.stop();
  await backends?.close();
});

const status =
  (want: 'MAINT' | 'no check') =>
  (e: FeedEvent): e is SnapshotEvent =>
    e.type === 'snapshot' && e.snapshot.backends['be']?.servers?.['s1']?.status === want;

async function toggle(feed: FeedRecorder): Promise<void> {
  let from = feed.mark();
  await client.disableServer('be', 's1');
  await feed.until('MAINT', status('MAINT'), from, 5000);
  from = feed.mark();
  await client.enableServer('be', 's1');
  await feed.until('back', status('no check'), from, 5000);
}

test('state change to feed event, two changes per iteration (goal: under 20 ms in event mode)', async ({
  bench,
}) => {
  await bench('polling every 250 ms', () => toggle(polling)).run({ iterations: 10, time: 0 });
  await bench('event mode (show events -w)', () => toggle(events)).run({ iterations: 50, time: 0 });
});

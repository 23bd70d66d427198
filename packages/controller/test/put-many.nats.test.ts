import { kvSubject } from '@rhi/contracts';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, type NatsInstance } from '@rhi/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putMany, PutManyError } from '../src/nats/put-many.js';

// Many KV puts on one reply subscription, on a real nats-server: all stored, a refusal or silence named.

describe('putMany on a real nats-server', () => {
  let nats: NatsInstance;
  let nc: NatsConnection;
  let kv: KV;

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password });
    kv = await new Kvm(nc).create('put_many_test', { history: 1 });
  }, 30_000);

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('stores every entry, many more than are in flight at once', async () => {
    const entries = Array.from(
      { length: 3000 },
      (_, i) => [kvSubject('put_many_test', `k.${i}`), JSON.stringify({ i })] as const,
    );
    await putMany(nc, entries, { inFlight: 64, timeoutMs: 5000 });
    expect((await kv.status()).values).toBe(3000);
    expect((await kv.get('k.2999'))?.json()).toEqual({ i: 2999 });
    await putMany(nc, [], { inFlight: 64, timeoutMs: 5000 });
  });

  it('names the subject JetStream refused: nothing stores it (no responders)', async () => {
    await expect(
      putMany(
        nc,
        [
          [kvSubject('put_many_test', 'ok'), 'x'],
          ['no.stream.here', 'y'],
        ],
        { inFlight: 8, timeoutMs: 5000 },
      ),
    ).rejects.toMatchObject({ code: 'NATS_PUT_REFUSED', message: expect.stringContaining('no.stream.here') });
  });

  it('gives up when nothing answers, saying how many were answered', async () => {
    const silent = nc.subscribe('silent.sink', { callback: () => undefined });
    await nc.flush();
    const err = await putMany(
      nc,
      [
        [kvSubject('put_many_test', 'a'), '1'],
        ['silent.sink', '2'],
      ],
      {
        inFlight: 8,
        timeoutMs: 300,
      },
    ).catch((e: unknown) => e);
    silent.unsubscribe();
    expect(err).toBeInstanceOf(PutManyError);
    expect(err).toMatchObject({
      code: 'NATS_PUT_TIMEOUT',
      message: expect.stringMatching(/answered 1 of 2/),
    });
  });
});

import { createInbox, type NatsConnection } from '@nats-io/transport-node';

const decoder = new TextDecoder();

/** A put of {@link putMany} that JetStream refused or did not answer. */
export class PutManyError extends Error {
  constructor(
    readonly code: 'NATS_PUT_REFUSED' | 'NATS_PUT_TIMEOUT',
    message: string,
  ) {
    super(message);
    this.name = 'PutManyError';
  }
}

/**
 * Publishes each `[subject, data]` to JetStream (a KV put is a publish on `$KV.<bucket>.<key>`), `inFlight`
 * at a time, every answer on one inbox subscription: what nats.js's `kv.put` does one request at a time,
 * without a request object, a timer and two errors with stack traces made for each (measured: most of
 * the client's cost of 10,000 puts). Resolves once JetStream stored them all; rejects at the first
 * refusal, or when one is not answered within `timeoutMs` (those sent may be stored: callers write
 * values that are the same when written again).
 */
export function putMany(
  nc: NatsConnection,
  entries: readonly (readonly [subject: string, data: string | Uint8Array])[],
  options: { readonly inFlight: number; readonly timeoutMs: number },
): Promise<void> {
  if (entries.length === 0) return Promise.resolve();
  const inbox = createInbox();
  return new Promise<void>((resolve, reject) => {
    let sent = 0;
    let answered = 0;
    let lastAnswer = Date.now();
    let over = false;
    const finish = (err?: Error) => {
      if (over) return;
      over = true;
      clearInterval(watch);
      sub.unsubscribe();
      if (err) reject(err);
      else resolve();
    };
    const send = () => {
      while (!over && sent < entries.length && sent - answered < options.inFlight) {
        const [subject, data] = entries[sent]!;
        nc.publish(subject, data, { reply: `${inbox}.${sent}` });
        sent++;
      }
    };
    const sub = nc.subscribe(`${inbox}.*`, {
      callback: (err, m) => {
        if (over) return;
        if (err) return finish(err);
        lastAnswer = Date.now();
        const text = decoder.decode(m.data);
        const refused =
          m.headers?.code && m.headers.code >= 400
            ? `${m.headers.code} ${m.headers.description}`
            : text.includes('"error"')
              ? ((JSON.parse(text) as { error?: { description?: string } }).error?.description ?? text)
              : null;
        if (refused !== null) {
          const i = Number(m.subject.slice(inbox.length + 1));
          return finish(
            new PutManyError(
              'NATS_PUT_REFUSED',
              `JetStream refused ${entries[i]?.[0] ?? m.subject}: ${refused}`,
            ),
          );
        }
        answered++;
        if (answered === entries.length) return finish();
        send();
      },
    });
    const watch = setInterval(
      () => {
        if (Date.now() - lastAnswer > options.timeoutMs)
          finish(
            new PutManyError(
              'NATS_PUT_TIMEOUT',
              `JetStream answered ${answered} of ${entries.length} puts, then nothing for ${options.timeoutMs} ms`,
            ),
          );
      },
      Math.max(50, Math.floor(options.timeoutMs / 4)),
    );
    send();
  });
}

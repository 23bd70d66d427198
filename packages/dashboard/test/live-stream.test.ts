import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  followStream,
  type LiveStreamOptions,
  type StreamEvent,
  type StreamState,
} from '../src/model/live-stream.js';

const URL = 'http://controller/api/v1/stream';
const encoder = new TextEncoder();

/** One request the fake controller took: its stream, to push SSE text into or end. */
interface Call {
  readonly url: string;
  readonly init: RequestInit;
  push(text: string | Uint8Array): void;
  end(): void;
}

/**
 * A fake `fetch`: each request takes the next planned answer (an HTTP status, an error to throw,
 * `'stream'`, the default, `'closed'`, a 200 whose stream ends at once, or `'silent'`, no answer at all)
 * and a streamed answer stays open until the test ends it. Aborting a request before the answer fails
 * the request, and after it errors its body, as a browser's fetch does.
 */
function fakeController(...plan: (number | Error | 'stream' | 'closed' | 'silent')[]) {
  const calls: Call[] = [];
  const fetchFn = (async (url: string, init: RequestInit) => {
    const answer = plan.shift() ?? 'stream';
    let body: ReadableStreamDefaultController<Uint8Array> | undefined;
    const stream = new ReadableStream<Uint8Array>({ start: (c) => void (body = c) });
    calls.push({
      url,
      init,
      push: (text) => body!.enqueue(typeof text === 'string' ? encoder.encode(text) : text),
      end: () => body!.close(),
    });
    if (answer === 'silent')
      return new Promise<never>((_, reject) =>
        init.signal?.addEventListener('abort', () =>
          reject(new DOMException('This operation was aborted', 'AbortError')),
        ),
      );
    await Promise.resolve();
    if (init.signal?.aborted) throw new DOMException('This operation was aborted', 'AbortError');
    if (answer instanceof Error) throw answer;
    if (typeof answer === 'number')
      return new Response('{"error":{"code":"UNAUTHORIZED","message":"no"}}', { status: answer });
    init.signal?.addEventListener('abort', () => {
      try {
        body!.error(new DOMException('This operation was aborted', 'AbortError'));
      } catch {
        // already closed
      }
    });
    if (answer === 'closed') body!.close();
    return new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  }) as unknown as typeof fetch;
  return { calls, fetchFn };
}

function follow(fetchFn: typeof fetch, over: Partial<LiveStreamOptions> = {}) {
  const events: StreamEvent[] = [];
  const states: StreamState[] = [];
  const stop = followStream({
    url: URL,
    token: 'tok-123',
    onEvent: (e) => events.push(e),
    onState: (s) => states.push(s),
    fetchFn,
    now: () => Date.now(),
    ...over,
  });
  return { events, states, stop };
}

/** Lets the promises and streams run (no time passes). */
const settle = () => vi.advanceTimersByTimeAsync(0);
const kinds = (states: StreamState[]) =>
  states.map((s) => (s.kind === 'lost' ? `lost(${s.attempt}, ${s.retryInMs})` : s.kind));

let stops: (() => void)[] = [];
beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  stops = [];
});
afterEach(() => {
  for (const s of stops) s();
  vi.useRealTimers();
});
const start = (fetchFn: typeof fetch, over: Partial<LiveStreamOptions> = {}) => {
  const f = follow(fetchFn, over);
  stops.push(f.stop);
  return f;
};

describe('followStream: connecting', () => {
  it('asks for the stream with the bearer token, then is live', async () => {
    const c = fakeController();
    const { states } = start(c.fetchFn);
    expect(states).toEqual([{ kind: 'connecting', attempt: 0 }]);
    await settle();
    expect(c.calls).toHaveLength(1);
    expect(c.calls[0]!.url).toBe(URL);
    expect(c.calls[0]!.init.headers).toMatchObject({
      authorization: 'Bearer tok-123',
      accept: 'text/event-stream',
    });
    expect(c.calls[0]!.init).toMatchObject({ cache: 'no-store' });
    expect(states).toEqual([
      { kind: 'connecting', attempt: 0 },
      { kind: 'live', since: 1_000_000 },
    ]);
  });
});

describe('followStream: events', () => {
  it('delivers an event split across chunks, once it is whole', async () => {
    const c = fakeController();
    const { events } = start(c.fetchFn);
    await settle();
    const s = c.calls[0]!;
    s.push(': rhi-controller view changes\n\nid: 4\nevent: no');
    s.push('de\ndata: {"subject":"lb1","da');
    await settle();
    expect(events).toEqual([]);
    s.push('ta":{"node":"lb1"}}\n');
    await settle();
    expect(events).toEqual([]);
    s.push('\n');
    await settle();
    expect(events).toEqual([{ id: '4', kind: 'node', subject: 'lb1', data: { node: 'lb1' } }]);
  });

  it('delivers every event of one chunk, in order, and skips comments', async () => {
    const c = fakeController();
    const { events } = start(c.fetchFn);
    await settle();
    c.calls[0]!.push(
      'id: 5\nevent: alertOpened\ndata: {"subject":"vipBelowMinimum:t%1","data":{"kind":"vipBelowMinimum"}}\n\n' +
        ': keep-alive\n\n' +
        'id: 6\nevent: node\ndata: {"subject":"lb2","data":{"node":"lb2"}}\n\n',
    );
    await settle();
    expect(events.map((e) => [e.id, e.kind, e.subject])).toEqual([
      ['5', 'alertOpened', 'vipBelowMinimum:t%1'],
      ['6', 'node', 'lb2'],
    ]);
  });

  it('decodes a character whose bytes are split across chunks', async () => {
    const c = fakeController();
    const { events } = start(c.fetchFn);
    await settle();
    const bytes = encoder.encode('event: node\ndata: {"subject":"nœud","data":1}\n\n');
    const cut = bytes.indexOf(0xc5) + 1; // inside the two bytes of œ
    c.calls[0]!.push(bytes.slice(0, cut));
    c.calls[0]!.push(bytes.slice(cut));
    await settle();
    expect(events).toEqual([{ id: undefined, kind: 'node', subject: 'nœud', data: 1 }]);
  });

  it('gives a reset its whole payload as data, an unnamed event the kind message, and skips data that is not JSON', async () => {
    const c = fakeController();
    const { events } = start(c.fetchFn);
    await settle();
    c.calls[0]!.push(
      'event: reset\ndata: {"reason":"forgotten"}\n\n' +
        'event: node\ndata: not json\n\n' +
        'data: {"x":1}\n\n',
    );
    await settle();
    expect(events).toEqual([
      { id: undefined, kind: 'reset', subject: undefined, data: { reason: 'forgotten' } },
      { id: undefined, kind: 'message', subject: undefined, data: { x: 1 } },
    ]);
  });
});

describe('followStream: reconnecting', () => {
  it('retries a refused or unanswered request after a doubling delay, up to the last', async () => {
    const c = fakeController(401, new TypeError('fetch failed'), 503, 503, 503, 503);
    const { states } = start(c.fetchFn);
    await settle();
    expect(states.at(-1)).toEqual({
      kind: 'lost',
      reason: 'the stream was refused: HTTP 401',
      retryInMs: 500,
      attempt: 1,
    });
    await vi.advanceTimersByTimeAsync(499);
    expect(c.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(c.calls).toHaveLength(2);
    expect(states.at(-1)).toEqual({
      kind: 'lost',
      reason: 'the controller did not answer: fetch failed',
      retryInMs: 1000,
      attempt: 2,
    });
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 5000);
    expect(kinds(states)).toEqual([
      'connecting',
      'lost(1, 500)',
      'connecting',
      'lost(2, 1000)',
      'connecting',
      'lost(3, 2000)',
      'connecting',
      'lost(4, 4000)',
      'connecting',
      'lost(5, 5000)',
      'connecting',
      'lost(6, 5000)',
    ]);
    expect(states.filter((s) => s.kind === 'connecting')).toEqual(
      [0, 1, 2, 3, 4, 5].map((attempt) => ({ kind: 'connecting', attempt })),
    );
    // The next one is live and delivers an event: the delays start again.
    await vi.advanceTimersByTimeAsync(5000);
    expect(kinds(states).slice(-2)).toEqual(['connecting', 'live']);
    c.calls.at(-1)!.push('event: node\ndata: {"subject":"lb1","data":{}}\n\n');
    c.calls.at(-1)!.end();
    await settle();
    expect(states.at(-1)).toMatchObject({ kind: 'lost', retryInMs: 500, attempt: 1 });
  });

  it('backs off to the last delay from a controller that answers 200 and closes the stream at once', async () => {
    const c = fakeController('closed', 'closed', 'closed', 'closed', 'closed', 'closed', 'closed');
    const { states } = start(c.fetchFn);
    await vi.advanceTimersByTimeAsync(500 + 1000 + 2000 + 4000 + 5000 + 5000);
    expect(kinds(states)).toEqual([
      'connecting',
      'live',
      'lost(1, 500)',
      'connecting',
      'live',
      'lost(2, 1000)',
      'connecting',
      'live',
      'lost(3, 2000)',
      'connecting',
      'live',
      'lost(4, 4000)',
      'connecting',
      'live',
      'lost(5, 5000)',
      'connecting',
      'live',
      'lost(6, 5000)',
      'connecting',
      'live',
      'lost(7, 5000)',
    ]);
    expect(c.calls).toHaveLength(7);
    expect(states.at(-1)).toMatchObject({ reason: 'the controller closed the stream' });
  });

  it('does not count keep-alive comments before a close as a steady stream', async () => {
    const c = fakeController();
    const { states } = start(c.fetchFn);
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(i === 0 ? 0 : 500 * 2 ** (i - 1));
      c.calls[i]!.push(': keep-alive\n\n');
      await vi.advanceTimersByTimeAsync(1999);
      c.calls[i]!.end();
      await settle();
    }
    expect(kinds(states).filter((k) => k.startsWith('lost'))).toEqual([
      'lost(1, 500)',
      'lost(2, 1000)',
      'lost(3, 2000)',
    ]);
  });

  it('starts the delays again after a stream that stayed open four times the first delay', async () => {
    const c = fakeController(503, 503, 503);
    const { states } = start(c.fetchFn, { backoffMs: [100, 1000] });
    await vi.advanceTimersByTimeAsync(100 + 200 + 400);
    expect(kinds(states).slice(-3)).toEqual(['lost(3, 400)', 'connecting', 'live']);
    await vi.advanceTimersByTimeAsync(399);
    c.calls[3]!.end();
    await settle();
    expect(states.at(-1)).toMatchObject({ kind: 'lost', retryInMs: 800, attempt: 4 });
    await vi.advanceTimersByTimeAsync(800 + 400);
    expect(kinds(states).slice(-2)).toEqual(['connecting', 'live']);
    c.calls[4]!.end();
    await settle();
    expect(states.at(-1)).toMatchObject({ kind: 'lost', retryInMs: 100, attempt: 1 });
  });

  it('gives up on a request unanswered for 10 s: aborts it, is lost, and retries with the delays', async () => {
    const c = fakeController('silent', 'silent', 'silent');
    const { states } = start(c.fetchFn);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(kinds(states)).toEqual(['connecting']);
    expect(c.calls[0]!.init.signal!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(states.at(-1)).toEqual({
      kind: 'lost',
      reason: 'the controller did not answer within 10 s',
      retryInMs: 500,
      attempt: 1,
    });
    expect(c.calls[0]!.init.signal!.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(500 + 10_000 + 1000 + 10_000);
    expect(kinds(states)).toEqual([
      'connecting',
      'lost(1, 500)',
      'connecting',
      'lost(2, 1000)',
      'connecting',
      'lost(3, 2000)',
    ]);
    // The fourth request is answered: it is followed, with no timeout left over from the others.
    await vi.advanceTimersByTimeAsync(2000);
    expect(kinds(states).slice(-2)).toEqual(['connecting', 'live']);
    await vi.advanceTimersByTimeAsync(44_999);
    expect(states.at(-1)!.kind).toBe('live');
  });

  it('uses the given connect timeout, and does not go live on an answer that comes after it', async () => {
    let answer: ((r: Response) => void) | undefined;
    const signals: AbortSignal[] = [];
    // A fetch that does not heed the abort.
    const fetchFn = ((_url: string, init: RequestInit) => {
      signals.push(init.signal!);
      return new Promise<Response>((r) => (answer = r));
    }) as unknown as typeof fetch;
    const { states } = start(fetchFn, { connectTimeoutMs: 300 });
    await vi.advanceTimersByTimeAsync(300);
    expect(states.at(-1)).toMatchObject({
      kind: 'lost',
      reason: 'the controller did not answer within 300 ms',
    });
    expect(signals[0]!.aborted).toBe(true);
    answer!(new Response(new ReadableStream(), { status: 200 }));
    await settle();
    expect(kinds(states)).toEqual(['connecting', 'lost(1, 500)']);
  });

  it('reconnects after the controller ends the stream, and follows the new one', async () => {
    const c = fakeController();
    const { states, events } = start(c.fetchFn, { backoffMs: [100, 1000] });
    await settle();
    c.calls[0]!.end();
    await settle();
    expect(states.at(-1)).toEqual({
      kind: 'lost',
      reason: 'the controller closed the stream',
      retryInMs: 100,
      attempt: 1,
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(c.calls).toHaveLength(2);
    expect(kinds(states)).toEqual(['connecting', 'live', 'lost(1, 100)', 'connecting', 'live']);
    c.calls[1]!.push('event: node\ndata: {"subject":"lb1","data":{}}\n\n');
    await settle();
    expect(events.map((e) => e.subject)).toEqual(['lb1']);
  });

  it('calls a silence of 45 s a loss, whatever was heard before; a keep-alive comment counts as heard', async () => {
    const c = fakeController();
    const { states } = start(c.fetchFn);
    await settle();
    await vi.advanceTimersByTimeAsync(30_000);
    c.calls[0]!.push(': keep-alive\n\n');
    await vi.advanceTimersByTimeAsync(44_999);
    expect(states.at(-1)!.kind).toBe('live');
    await vi.advanceTimersByTimeAsync(1);
    expect(states.at(-1)).toEqual({
      kind: 'lost',
      reason: 'nothing heard for 45 s',
      retryInMs: 500,
      attempt: 1,
    });
    expect(c.calls[0]!.init.signal!.aborted).toBe(true);
  });

  it('after a silence, reconnects once: the aborted request is not lost a second time', async () => {
    const c = fakeController();
    const { states } = start(c.fetchFn, { silenceMs: 10_000 });
    await settle();
    await vi.advanceTimersByTimeAsync(10_000);
    await vi.advanceTimersByTimeAsync(500);
    expect(kinds(states)).toEqual(['connecting', 'live', 'lost(1, 500)', 'connecting', 'live']);
    expect(c.calls.map((r) => r.init.signal!.aborted)).toEqual([true, false]);
    // Its silence timer is the new stream's alone.
    await vi.advanceTimersByTimeAsync(9_999);
    expect(states).toHaveLength(5);
    await vi.advanceTimersByTimeAsync(1);
    expect(kinds(states).slice(5)).toEqual(['lost(1, 500)']);
  });

  it('uses the given silence and delays', async () => {
    const c = fakeController(500, 500, 500);
    const { states } = start(c.fetchFn, { silenceMs: 2000, backoffMs: [10, 25] });
    await vi.advanceTimersByTimeAsync(10 + 20 + 25);
    expect(kinds(states)).toEqual([
      'connecting',
      'lost(1, 10)',
      'connecting',
      'lost(2, 20)',
      'connecting',
      'lost(3, 25)',
      'connecting',
      'live',
    ]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(states.at(-1)).toMatchObject({ kind: 'lost', reason: 'nothing heard for 2 s' });
  });
});

describe('followStream: stopping', () => {
  it('aborts the request and says nothing more', async () => {
    const c = fakeController();
    const { states, events, stop } = follow(c.fetchFn);
    await settle();
    stop();
    await settle();
    expect(c.calls[0]!.init.signal!.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(kinds(states)).toEqual(['connecting', 'live']);
    expect(events).toEqual([]);
    expect(c.calls).toHaveLength(1);
  });

  it('cancels a pending retry', async () => {
    const c = fakeController(502);
    const { states, stop } = follow(c.fetchFn);
    await settle();
    expect(kinds(states)).toEqual(['connecting', 'lost(1, 500)']);
    stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(c.calls).toHaveLength(1);
    expect(kinds(states)).toEqual(['connecting', 'lost(1, 500)']);
  });

  it('never goes live when stopped while the request is under way', async () => {
    const c = fakeController();
    const { states, stop } = follow(c.fetchFn);
    stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(kinds(states)).toEqual(['connecting']);
  });
});

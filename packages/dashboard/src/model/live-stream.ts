import { createParser } from 'eventsource-parser';

/** The live stream's state, as the page shows it. */
export type StreamState =
  | { readonly kind: 'connecting'; readonly attempt: number }
  | { readonly kind: 'live'; readonly since: number }
  | { readonly kind: 'lost'; readonly reason: string; readonly retryInMs: number; readonly attempt: number };

/** One event of the controller's `GET /api/v1/stream`. */
export interface StreamEvent {
  readonly id: string | undefined;
  readonly kind: string;
  readonly subject: string | undefined;
  readonly data: unknown;
}

export interface LiveStreamOptions {
  readonly url: string;
  readonly token: string;
  readonly onEvent: (e: StreamEvent) => void;
  /** Every change of state; `live` is also where the page reads the view again (it may have missed changes). */
  readonly onState: (s: StreamState) => void;
  readonly fetchFn?: typeof fetch;
  /** Silence (no event, no keep-alive comment) this long means the stream is lost. Default 45 s. */
  readonly silenceMs?: number;
  /**
   * A request whose answer (its status and headers) has not come this long after it was sent is
   * aborted and the stream lost. Default 10 s.
   */
  readonly connectTimeoutMs?: number;
  /**
   * Reconnect delays: doubling from the first to the last. Default 500 ms to 5 s. The delays start again
   * from the first only once a stream has proved steady: it delivered an event, or stayed open at least
   * four times the first delay (2 s by default). A controller that answers and closes at once (or sends
   * only keep-alive comments before closing) is thus retried ever more slowly, up to the last delay.
   */
  readonly backoffMs?: readonly [number, number];
  readonly setTimer?: (f: () => void, ms: number) => unknown;
  readonly clearTimer?: (t: unknown) => void;
  readonly now?: () => number;
}

/**
 * Follows the SSE stream over `fetch` (an `EventSource` cannot send the bearer token) and reconnects
 * after a drop, an error answer, an answer that does not come or a silence, with a growing delay.
 * Returns the function that stops it.
 */
export function followStream(o: LiveStreamOptions): () => void {
  const fetchFn = o.fetchFn ?? fetch;
  const setTimer = o.setTimer ?? ((f, ms) => setTimeout(f, ms));
  const clearTimer = o.clearTimer ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));
  const now = o.now ?? Date.now;
  const [first, last] = o.backoffMs ?? [500, 5000];
  const silenceMs = o.silenceMs ?? 45_000;
  const connectTimeoutMs = o.connectTimeoutMs ?? 10_000;
  const steadyMs = first * 4;
  let stopped = false;
  let attempt = 0;
  let abort: AbortController | null = null;
  // The connect timeout while connecting, the silence timer while live.
  let watch: unknown = null;
  let retry: unknown = null;
  let liveSince: number | null = null;

  const unwatch = () => {
    if (watch !== null) clearTimer(watch);
    watch = null;
  };
  const lost = (reason: string) => {
    if (stopped) return;
    abort?.abort();
    // The aborted request's read now fails: it must not count as a second loss (a second retry).
    abort = null;
    unwatch();
    if (liveSince !== null && now() - liveSince >= steadyMs) attempt = 0;
    liveSince = null;
    const retryInMs = Math.min(last, first * 2 ** Math.min(attempt, 16));
    attempt++;
    o.onState({ kind: 'lost', reason, retryInMs, attempt });
    retry = setTimer(connect, retryInMs);
  };
  const heard = (ac: AbortController) => {
    unwatch();
    watch = setTimer(() => {
      if (abort === ac) lost(`nothing heard for ${duration(silenceMs)}`);
    }, silenceMs);
  };

  async function connect(): Promise<void> {
    if (stopped) return;
    const ac = new AbortController();
    abort = ac;
    o.onState({ kind: 'connecting', attempt });
    watch = setTimer(() => {
      if (abort === ac) lost(`the controller did not answer within ${duration(connectTimeoutMs)}`);
    }, connectTimeoutMs);
    let res: Response;
    try {
      res = await fetchFn(o.url, {
        headers: { authorization: `Bearer ${o.token}`, accept: 'text/event-stream' },
        signal: ac.signal,
        cache: 'no-store',
      });
    } catch (err) {
      if (abort === ac) lost(`the controller did not answer: ${(err as Error).message}`);
      return;
    }
    if (stopped || abort !== ac) {
      // Timed out or stopped, and the fetch did not heed the abort.
      void res.body?.cancel().catch(() => undefined);
      return;
    }
    if (!res.ok || !res.body) {
      lost(`the stream was refused: HTTP ${res.status}`);
      return;
    }
    liveSince = now();
    o.onState({ kind: 'live', since: liveSince });
    heard(ac);
    const parser = createParser({
      onEvent: (m) => {
        let payload: { subject?: string; data?: unknown } = {};
        try {
          payload = JSON.parse(m.data) as typeof payload;
        } catch {
          return;
        }
        if (stopped || abort !== ac) return;
        attempt = 0;
        o.onEvent({
          id: m.id,
          kind: m.event ?? 'message',
          subject: payload.subject,
          data: payload.data ?? payload,
        });
      },
      onComment: () => undefined,
    });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        heard(ac);
        parser.feed(value);
      }
      if (abort === ac) lost('the controller closed the stream');
    } catch (err) {
      if (abort === ac) lost(`the stream broke: ${(err as Error).message}`);
    }
  }

  void connect();
  return () => {
    stopped = true;
    abort?.abort();
    unwatch();
    if (retry !== null) clearTimer(retry);
  };
}

const duration = (ms: number) => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`);

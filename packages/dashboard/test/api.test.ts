import { describe, expect, it } from 'vitest';
import { ApiFailure, createApi } from '../src/model/api.js';

/** A fake `fetch` that records each request and answers with `reply`. */
function fakeFetch(reply: () => Response | Promise<Response>) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetchFn = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return reply();
  }) as unknown as typeof fetch;
  return { calls, fetchFn };
}
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

async function failure(p: Promise<unknown>): Promise<ApiFailure> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiFailure);
  return err as ApiFailure;
}

describe('createApi', () => {
  it('GETs with the bearer token and gives back the JSON', async () => {
    const f = fakeFetch(() => json(200, { alerts: [] }));
    const api = createApi('tok-1', f.fetchFn, 'http://controller');
    await expect(api.get('/api/v1/alerts')).resolves.toEqual({ alerts: [] });
    expect(f.calls).toEqual([
      {
        url: 'http://controller/api/v1/alerts',
        init: { method: 'GET', headers: { authorization: 'Bearer tok-1' } },
      },
    ]);
  });

  it('POSTs a body as JSON, and no body without one', async () => {
    const f = fakeFetch(() => json(202, { ok: true }));
    const api = createApi('tok-1', f.fetchFn);
    await api.post('/api/v1/nodes/lb1/drain', { mode: 'withdraw' });
    await api.post('/api/v1/nodes/lb1/undrain');
    expect(f.calls[0]).toEqual({
      url: '/api/v1/nodes/lb1/drain',
      init: {
        method: 'POST',
        headers: { authorization: 'Bearer tok-1', 'content-type': 'application/json' },
        body: '{"mode":"withdraw"}',
      },
    });
    expect(f.calls[1]!.init).toEqual({ method: 'POST', headers: { authorization: 'Bearer tok-1' } });
  });

  it('gives null for an empty success', async () => {
    const api = createApi('t', fakeFetch(() => new Response(null, { status: 204 })).fetchFn);
    await expect(api.post('/x')).resolves.toBeNull();
  });

  it("throws the API's error code and message", async () => {
    const api = createApi(
      't',
      fakeFetch(() => json(404, { error: { code: 'NODE_NOT_FOUND', message: "no node 'x' has reported" } }))
        .fetchFn,
    );
    const e = await failure(api.get('/api/v1/nodes/x'));
    expect(e).toMatchObject({ status: 404, code: 'NODE_NOT_FOUND', message: "no node 'x' has reported" });
  });

  it("keeps the error's other fields: a blocked rollout's what-if, a refused field", async () => {
    const whatIf = { verdict: { blocked: true, blockers: [{ vip: 'vol1%198.18.200.1/32' }] } };
    const api = createApi(
      't',
      fakeFetch(() =>
        json(409, {
          error: { code: 'ROLLOUT_BLOCKED', message: 'the guard blocks it', field: 'serial', whatIf },
        }),
      ).fetchFn,
    );
    const e = await failure(api.post('/api/v1/rollouts', { serial: 2 }));
    expect(e.code).toBe('ROLLOUT_BLOCKED');
    expect(e.details).toEqual({ field: 'serial', whatIf });
  });

  it('names an error answer without an error body by its status', async () => {
    const api = createApi(
      't',
      fakeFetch(() => new Response('', { status: 502, statusText: 'Bad Gateway' })).fetchFn,
    );
    expect(await failure(api.get('/x'))).toMatchObject({
      status: 502,
      code: 'HTTP_502',
      message: 'Bad Gateway',
    });
  });

  it('gives back a 503 that holds a view, which is stale, and throws one that does not', async () => {
    const view = { vips: [], nodes: [], stale: true, error: { code: 'NATS_UNAVAILABLE', message: 'down' } };
    const stale = createApi('t', fakeFetch(() => json(503, view)).fetchFn);
    await expect(stale.get('/api/v1/matrix')).resolves.toEqual(view);
    const down = createApi(
      't',
      fakeFetch(() => json(503, { error: { code: 'NATS_UNAVAILABLE', message: 'down' } })).fetchFn,
    );
    expect(await failure(down.get('/api/v1/events'))).toMatchObject({
      status: 503,
      code: 'NATS_UNAVAILABLE',
    });
  });

  it('throws BAD_REPLY for an answer that is not JSON, even a success', async () => {
    const api = createApi('t', fakeFetch(() => new Response('<html>proxy</html>', { status: 200 })).fetchFn);
    expect(await failure(api.get('/api/v1/matrix'))).toMatchObject({
      status: 200,
      code: 'BAD_REPLY',
      message: 'not JSON from /api/v1/matrix (HTTP 200)',
    });
  });

  it('throws UNREACHABLE (status 0) when the request fails', async () => {
    const fetchFn = (() => Promise.reject(new TypeError('fetch failed'))) as unknown as typeof fetch;
    expect(await failure(createApi('t', fetchFn).get('/x'))).toMatchObject({
      name: 'ApiFailure',
      status: 0,
      code: 'UNREACHABLE',
      message: 'the controller did not answer: fetch failed',
    });
  });
});

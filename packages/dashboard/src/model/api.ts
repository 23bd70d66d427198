/**
 * An API answer that is not a success: its HTTP status, the API's error code and message, and the
 * error's other fields (`details`: a blocked rollout's `whatIf`, a refused field's `field`).
 */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

/** The controller's HTTP API, as the page calls it: bearer token, JSON in and out, typed failures. */
export interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
}

export function createApi(token: string, fetchFn: typeof fetch = fetch, base = ''): Api {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetchFn(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new ApiFailure(0, 'UNREACHABLE', `the controller did not answer: ${(err as Error).message}`);
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      throw new ApiFailure(res.status, 'BAD_REPLY', `not JSON from ${path} (HTTP ${res.status})`);
    }
    // A 503 with a view in it is a stale view: the page shows it, marked stale.
    if (res.ok || (res.status === 503 && json !== null && typeof json === 'object' && 'stale' in json))
      return json as T;
    const error = (json as { error?: { code?: string; message?: string } } | null)?.error;
    const { code, message, ...details } = error ?? {};
    throw new ApiFailure(res.status, code ?? `HTTP_${res.status}`, message ?? res.statusText, details);
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
  };
}

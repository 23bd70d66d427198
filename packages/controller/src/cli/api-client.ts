/** The controller could not be reached, or answered with an error (its code and message). */
export class ApiCallError extends Error {
  constructor(
    readonly status: number | null,
    readonly code: string,
    message: string,
    /** The answer's `error` object as it came (a 422 carries the diagnostics there), else `{}`. */
    readonly error: Readonly<Record<string, unknown>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ApiCallError';
  }
}

/** A response body, and whether the controller said its view is stale (NATS away: 503). */
export interface ApiResult<T> {
  readonly body: T;
  readonly stale: boolean;
}

/** `rhictl`'s only way to the fleet: the controller's HTTP API, with a bearer token. */
export class ApiClient {
  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly timeoutMs = 10_000,
  ) {}

  get<T>(path: string): Promise<ApiResult<T>> {
    return this.request<T>('GET', path);
  }

  /** Sends `body` as JSON. */
  post<T>(path: string, body: unknown): Promise<ApiResult<T>> {
    return this.request<T>('POST', path, body);
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<ApiResult<T>> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.url), {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new ApiCallError(
        null,
        'UNREACHABLE',
        `cannot reach the controller at ${this.url}: ${(err as Error).message}`,
        {},
        { cause: err },
      );
    }
    const answer = (await res.json().catch(() => ({}))) as T & {
      stale?: boolean;
      error?: { code?: string; message?: string } & Record<string, unknown>;
    };
    if (res.ok) return { body: answer, stale: answer.stale === true };
    if (res.status === 503 && answer.stale === true) return { body: answer, stale: true };
    throw new ApiCallError(
      res.status,
      answer.error?.code ?? `HTTP_${res.status}`,
      answer.error?.message ?? `the controller answered ${res.status}`,
      answer.error ?? {},
    );
  }
}

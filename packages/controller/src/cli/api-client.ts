/** The controller could not be reached, or answered with an error (its code and message). */
export class ApiCallError extends Error {
  constructor(
    readonly status: number | null,
    readonly code: string,
    message: string,
  ) {
    super(message);
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

  async get<T>(path: string): Promise<ApiResult<T>> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.url), {
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new ApiCallError(
        null,
        'UNREACHABLE',
        `cannot reach the controller at ${this.url}: ${(err as Error).message}`,
      );
    }
    const body = (await res.json().catch(() => ({}))) as T & {
      stale?: boolean;
      error?: { code?: string; message?: string };
    };
    if (res.ok) return { body, stale: body.stale === true };
    if (res.status === 503 && body.stale === true) return { body, stale: true };
    throw new ApiCallError(
      res.status,
      body.error?.code ?? `HTTP_${res.status}`,
      body.error?.message ?? `the controller answered ${res.status}`,
    );
  }
}

import type { BirdClient } from '@rhi/bird-client';

/** Nearest rank: the smallest value with at least p % of the samples at or below it (NaN ignored). */
export const percentile = (xs: number[], p: number): number => {
  const sorted = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether a BIRD holds `prefix`. */
export async function present(client: BirdClient, prefix: string): Promise<boolean> {
  return (await client.showRoute({ prefix })).length > 0;
}

/** Polls a BIRD every `gapMs` until it holds `prefix` (or not); the ms since `t0` when it did. */
export async function until(
  client: BirdClient,
  prefix: string,
  want: boolean,
  t0: number,
  options: { readonly gapMs: number; readonly timeoutMs: number },
): Promise<number> {
  for (;;) {
    if ((await present(client, prefix)) === want) return performance.now() - t0;
    if (performance.now() - t0 > options.timeoutMs)
      throw new Error(`no change within ${options.timeoutMs} ms`);
    await sleep(options.gapMs);
  }
}

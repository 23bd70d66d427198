import type { NodeStatus } from '@rhi/contracts';

/** Where a drain stands, as `rhi-agent drain` reports it while it waits. */
export type DrainProgress =
  /** Routes withdrawn and out of BIRD: the drain has finished. */
  | { readonly state: 'done'; readonly line: string }
  /** Still going: routes de-preferred while connections fall, or withdrawn but still in BIRD. */
  | { readonly state: 'waiting'; readonly line: string }
  /** Nobody drains any more: undrained meanwhile. */
  | { readonly state: 'undrained'; readonly line: string };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Seconds from the status's time to the drain's deadline, or null without one. */
export function drainSecondsLeft(s: NodeStatus): number | null {
  const { deadline } = s.drain;
  if (deadline === undefined) return null;
  return Math.max(0, Math.ceil((Date.parse(deadline) - Date.parse(s.time)) / 1000));
}

/** The first line of a drain that waits for connections: what is de-preferred, and until when. */
export function drainStarted(s: NodeStatus): string | null {
  const drain = s.drain;
  if (drain.mode !== 'deprefer' || drain.waitSessions === undefined) return null;
  const routes = s.routes.filter((r) => r.desired).length;
  const left = drainSecondsLeft(s);
  return `draining (${drain.reason ?? 'drained'}): ${plural(routes, 'route')} de-preferred; withdrawn once HAProxy's connections fall to ${drain.waitSessions}${left === null ? '' : `, or in ${left} s at the latest`}`;
}

/** Where the drain in `s` stands. Pure: the CLI prints `line` when it changes. */
export function drainProgress(s: NodeStatus): DrainProgress {
  const drain = s.drain;
  if (!drain.drained) return { state: 'undrained', line: 'the node was undrained meanwhile' };
  if (drain.mode === 'deprefer') {
    const wanted = drain.waitSessions ?? 0;
    return {
      state: 'waiting',
      line:
        drain.sessions === undefined
          ? `HAProxy's connections not read yet, waiting for ${wanted}`
          : `HAProxy has ${plural(drain.sessions, 'connection')}, waiting for ${wanted}`,
    };
  }
  const advertised = s.routes.filter((r) => r.desired).length;
  // BIRD read or not is one fact for every route: any null means it is not known.
  const inBird = s.routes.some((r) => r.inBird === null)
    ? undefined
    : s.routes.filter((r) => r.inBird === true).length;
  if (advertised === 0 && inBird === 0)
    return { state: 'done', line: `drained: routes withdrawn; reason: ${drain.reason ?? 'drained'}` };
  const bird = s.bird.reachable ? '' : ` (bird: ${s.bird.error ?? 'unreachable'})`;
  return {
    state: 'waiting',
    line:
      inBird === undefined
        ? `withdrawing: what BIRD holds is not known yet${bird}`
        : `withdrawing: BIRD still holds ${plural(inBird, 'route')}${bird}`,
  };
}

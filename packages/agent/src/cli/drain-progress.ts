import type { AgentSnapshot } from '../loop/ports.js';

/** Where a drain stands, as `rhi-agent drain` reports it while it waits. */
export type DrainProgress =
  /** Routes withdrawn and out of BIRD: the drain has finished. */
  | { readonly state: 'done'; readonly line: string }
  /** Still going: routes de-preferred while connections fall, or withdrawn but still in BIRD. */
  | { readonly state: 'waiting'; readonly line: string }
  /** Nobody drains any more: undrained meanwhile. */
  | { readonly state: 'undrained'; readonly line: string };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The first line of a drain that waits for connections: what is de-preferred, and until when. */
export function drainStarted(s: AgentSnapshot): string | null {
  const drain = s.drain;
  if (drain?.mode !== 'deprefer' || drain.waitSessions === undefined) return null;
  const routes = s.routes.filter((r) => r.desired).length;
  const left = drain.deadline === undefined ? null : Math.max(0, Math.ceil((drain.deadline - s.time) / 1000));
  return `draining (${drain.reason}): ${plural(routes, 'route')} de-preferred; withdrawn once HAProxy's connections fall to ${drain.waitSessions}${left === null ? '' : `, or in ${left} s at the latest`}`;
}

/** Where the drain in `s` stands. Pure: the CLI prints `line` when it changes. */
export function drainProgress(s: AgentSnapshot): DrainProgress {
  if (!s.drained) return { state: 'undrained', line: 'the node was undrained meanwhile' };
  const drain = s.drain;
  if (drain?.mode === 'deprefer') {
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
  const inBird = s.inBird?.length;
  if (advertised === 0 && inBird === 0)
    return { state: 'done', line: `drained: routes withdrawn; reason: ${drain?.reason ?? 'drained'}` };
  const bird = s.bird.reachable ? '' : ` (bird: ${s.bird.error ?? 'unreachable'})`;
  return {
    state: 'waiting',
    line:
      inBird === undefined
        ? `withdrawing: what BIRD holds is not known yet${bird}`
        : `withdrawing: BIRD still holds ${plural(inBird, 'route')}${bird}`,
  };
}

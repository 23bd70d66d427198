import { routeId } from '@rhi/contracts';
import type { DesiredRoute, PlannedRoute } from '../core/planner.js';
import type { AgentSnapshot, RefusedRoute, RouteExport } from '../loop/ports.js';
import { type NodeIdentity, type RouteContext, statusHead, wireRoute } from './messages.js';

interface Piece {
  readonly inBird: boolean | null;
  readonly refused: string | undefined;
  readonly exported: RouteExport | undefined;
  readonly json: string;
}

/** A lookup made from a list, made again only when the list is another one. */
class ListIndex<T extends object, V> {
  private list: readonly T[] | null | undefined = undefined;
  private index: Map<string, V> | null = null;

  constructor(
    private readonly ids: (x: T) => string,
    private readonly value: (x: T) => V,
  ) {}

  of(list: readonly T[] | null | undefined): Map<string, V> | null {
    if (list !== this.list || this.index === null) {
      this.list = list;
      this.index = list == null ? null : new Map(list.map((x) => [this.ids(x), this.value(x)]));
    }
    return this.index;
  }
}

/**
 * Writes statuses as JSON, text for text what `JSON.stringify(toNodeStatus(...))` writes, at the cost of
 * what changed: the loop hands out a route's picture again (the same object) while it does not change,
 * and the export check keeps its unchanged answers, so the JSON of a route whose picture, place in BIRD,
 * refusal and exports are the ones it was written with is the text written then. What remains per status
 * is a lookup and a join per route.
 */
export class StatusEncoder {
  private readonly pieces = new WeakMap<PlannedRoute, Piece>();
  private readonly keys = new WeakMap<object, string>();
  private readonly id = (r: { readonly table: string; readonly prefix: string }): string => {
    let key = this.keys.get(r);
    if (key === undefined) {
      key = routeId(r);
      this.keys.set(r, key);
    }
    return key;
  };
  private readonly inBird = new ListIndex<DesiredRoute, true>(this.id, () => true);
  private readonly refused = new ListIndex<RefusedRoute, string>(this.id, (r) => r.reason);
  private readonly exported = new ListIndex<RouteExport, RouteExport>(this.id, (r) => r);

  /** The JSON text of the status of `s`. */
  encode(identity: NodeIdentity, s: AgentSnapshot, seq: number, now: number): string {
    const inBird = this.inBird.of(s.inBird);
    const refused = s.refused?.length ? this.refused.of(s.refused) : null;
    const exported = s.exports?.routes.length ? this.exported.of(s.exports.routes) : null;
    const parts = new Array<string>(s.routes.length);
    for (let i = 0; i < s.routes.length; i++) {
      const r = s.routes[i] as PlannedRoute;
      const key = this.id(r);
      const c: RouteContext = {
        inBird: inBird === null ? null : inBird.has(key),
        refused: refused?.get(key),
        exported: exported?.get(key),
      };
      let piece = this.pieces.get(r);
      if (
        piece === undefined ||
        piece.inBird !== c.inBird ||
        piece.refused !== c.refused ||
        piece.exported !== c.exported
      ) {
        const json = JSON.stringify(wireRoute(r, c));
        piece = { inBird: c.inBird, refused: c.refused, exported: exported?.get(key), json };
        this.pieces.set(r, piece);
      }
      parts[i] = piece.json;
    }
    const head = JSON.stringify(statusHead(identity, s, seq, now));
    return `${head.slice(0, -1)},"routes":[${parts.join(',')}]}`;
  }
}

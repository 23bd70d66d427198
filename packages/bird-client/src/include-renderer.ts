import { BirdInvalidInputError } from './errors.js';
import type { BirdFamily } from './prefix.js';
import {
  DEFAULT_NEXT_HOP,
  INCLUDE_HEADER,
  nextHopText,
  normalizeValidTable,
  ownedProtocols,
  protocolNameFor,
  routeTail,
  type BirdRouteBgp,
  type DesiredRoute,
  type IncludeLayout,
  type NormalizedRoute,
  type RefusedRoute,
  type RefusedTable,
  type RenderedInclude,
  type RenderedProtocol,
  type StaticNextHop,
} from './render-include.js';
import { routeChanges, type ChangePlan, type RouteChanges } from './route-diff.js';

/** What one {@link IncludeRenderer.render} call gives. */
export interface IncludeRendering {
  /**
   * Equal to `renderInclude(routes, layout, { refused, tables })` (text byte for byte). When nothing
   * changed since the previous call, it is that call's object itself (`rendered === since`).
   */
  readonly rendered: RenderedInclude;
  /** The routes left out, with their reasons, in input order: what `renderInclude`'s collector receives. */
  readonly refused: RefusedRoute[];
  /** The previous call's rendering, which `changes` is relative to; undefined on the first call or after a throw. */
  readonly since: RenderedInclude | undefined;
  /**
   * Equal to `changesSince(since, rendered)`, from the same pass over the routes; empty when
   * `rendered === since`. Without `since`, every protocol is listed as `undefined`.
   */
  readonly changes: ChangePlan;
}

export interface IncludeRendererOptions {
  /**
   * Up to this many routes added plus removed in one protocol are placed by binary search in the previous
   * order; more, and the protocol is sorted again. Default 256.
   */
  readonly spliceLimit?: number;
  /** Route lines are joined in chunks of this many to twice as many; a change joins its chunk again. Default 128. */
  readonly chunkLines?: number;
}

/** A route object's validation, cached by identity; the fields it was read from guard against reassignment. */
interface Normalization {
  readonly table: string;
  readonly prefix: string;
  readonly family: BirdFamily;
  readonly bgp: BirdRouteBgp | undefined;
  readonly normalized: NormalizedRoute | undefined;
  /** The route line after the next hop (attributes, or `;`). */
  readonly tail: string;
  readonly error: string;
  /** Where the route was placed last: found again without lookups while it is live and its protocol current. */
  slot: Slot | undefined;
}

interface Slot {
  readonly state: ProtocolState;
  /** Still in its protocol. */
  live: boolean;
  normalized: NormalizedRoute;
  tail: string;
  line: string;
  /** The render call that last placed it. */
  gen: number;
  /** The render call that last added or re-attributed it. */
  changed: number;
}

interface ProtocolState {
  readonly name: string;
  readonly table: string;
  readonly family: BirdFamily;
  readonly nextHop: StaticNextHop;
  readonly hop: string;
  /** Dialect, table, family and next hop: a state is reused only by a protocol with the same signature. */
  readonly signature: string;
  readonly slots: Map<string, Slot>;
  fresh: boolean;
  /** The render call that last used it. */
  epoch: number;
  /** The slots in key order; private, so changed in place. */
  order: Slot[];
  /** `order`'s routes, handed out: copied on change. */
  routes: readonly NormalizedRoute[];
  lines: LineChunks;
  block: string;
  rendered: RenderedProtocol | undefined;
  sizeBefore: number;
  kept: number;
  added: Slot[];
  reattributed: Slot[];
}

const byKey = (a: NormalizedRoute, b: NormalizedRoute): number =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : 0;

function lowerBound(order: readonly Slot[], key: string): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((order[mid]?.normalized.key ?? '') < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A protocol's route lines in order, in chunks of `size` to `2 * size` lines whose joined text is kept: an edit
 * joins its chunk again, and the protocol's text is a concatenation of the chunks' (V8 keeps it as a rope
 * until it is written), so no string of the whole include is built per change.
 */
class LineChunks {
  private readonly chunks: { lines: string[]; text: string | undefined }[] = [];

  constructor(
    private readonly size: number,
    lines: readonly string[] = [],
  ) {
    for (let i = 0; i < lines.length; i += size)
      this.chunks.push({ lines: lines.slice(i, i + size), text: undefined });
  }

  insert(index: number, line: string): void {
    const { chunk, at, n } = this.locate(index);
    if (chunk === undefined) {
      this.chunks.push({ lines: [line], text: undefined });
      return;
    }
    chunk.lines.splice(at, 0, line);
    chunk.text = undefined;
    if (chunk.lines.length > 2 * this.size)
      this.chunks.splice(n + 1, 0, { lines: chunk.lines.splice(this.size), text: undefined });
  }

  remove(index: number): void {
    const { chunk, at, n } = this.locate(index);
    if (chunk === undefined) return;
    chunk.lines.splice(at, 1);
    chunk.text = undefined;
    if (chunk.lines.length === 0) this.chunks.splice(n, 1);
  }

  replace(index: number, line: string): void {
    const { chunk, at } = this.locate(index);
    if (chunk === undefined) return;
    chunk.lines[at] = line;
    chunk.text = undefined;
  }

  /** `\n` and the lines joined by `\n`, or `''` without lines. */
  text(): string {
    let text = '';
    for (const chunk of this.chunks) text = text + '\n' + (chunk.text ??= chunk.lines.join('\n'));
    return text;
  }

  /** The chunk holding line `index` (or the last one, to append), and the index within it. */
  private locate(index: number) {
    let at = index;
    for (const [n, chunk] of this.chunks.entries()) {
      if (at < chunk.lines.length || n === this.chunks.length - 1) return { chunk, at, n };
      at -= chunk.lines.length;
    }
    return { chunk: undefined, at, n: 0 };
  }
}

function normalization(route: DesiredRoute): Normalization {
  const read = { table: route.table, prefix: route.prefix, family: route.family, bgp: route.bgp };
  try {
    const normalized = normalizeValidTable(route);
    return { ...read, normalized, tail: routeTail(normalized.bgp), error: '', slot: undefined };
  } catch (err) {
    return { ...read, normalized: undefined, tail: '', error: (err as Error).message, slot: undefined };
  }
}

/**
 * `renderInclude` for a caller that renders again and again with small changes: the include, the refused
 * routes and the {@link ChangePlan} since the previous call, at a cost proportional to what changed. What
 * stays per route is one identity lookup and a few comparisons; per changed protocol, a copy of its route
 * array and one scan of it when a route left. Pure: values in, values out, no I/O.
 *
 * Route objects are cached by identity: pass the same object for a route that did not change. They are
 * read as immutable values; a route whose `table`, `prefix`, `family` or `bgp` was reassigned is
 * validated again, but a `bgp` object changed in place is not noticed. A route object not seen before
 * is validated as `renderInclude` does, so equal content gives equal output.
 */
export class IncludeRenderer {
  private readonly cache = new WeakMap<DesiredRoute, Normalization>();
  private readonly spliceLimit: number;
  private readonly chunkLines: number;
  private states = new Map<string, ProtocolState>();
  private previous: RenderedInclude | undefined;
  private gen = 0;

  constructor(options: IncludeRendererOptions = {}) {
    this.spliceLimit = options.spliceLimit ?? 256;
    this.chunkLines = Math.max(1, options.chunkLines ?? 128);
  }

  /** Forgets the previous rendering (the route cache stays: it depends on the routes only). */
  reset(): void {
    this.states = new Map();
    this.previous = undefined;
  }

  /**
   * Renders `routes` under `layout`, leaving out and returning the routes `renderInclude` would collect
   * as refused (`refusedTables`: the tables `renderableLayout` refused). Throws what `renderInclude`
   * throws for a layout it cannot render (a table name that is no symbol, a next hop that does not fit).
   */
  render(
    routes: readonly DesiredRoute[],
    layout: IncludeLayout,
    refusedTables: readonly RefusedTable[] = [],
  ): IncludeRendering {
    try {
      return this.renderFrom(routes, layout, refusedTables);
    } catch (err) {
      this.reset();
      throw err;
    }
  }

  private renderFrom(
    routes: readonly DesiredRoute[],
    layout: IncludeLayout,
    refusedTables: readonly RefusedTable[],
  ): IncludeRendering {
    const since = this.previous;
    const bird2 = (layout.dialect ?? 'bird2') === 'bird2';
    const gen = ++this.gen;
    const states = this.statesFor(layout, gen);
    const byTable = new Map<string, Partial<Record<BirdFamily, ProtocolState>>>();
    for (const state of states.values()) {
      const entry = byTable.get(state.table) ?? {};
      entry[state.family] = state;
      byTable.set(state.table, entry);
    }
    const tableReasons = new Map(refusedTables.map((t) => [t.table, t.reason]));
    const refused: RefusedRoute[] = [];

    for (const route of routes) {
      const tableReason = tableReasons.get(route.table);
      if (tableReason !== undefined) {
        refused.push({ route, reason: tableReason });
        continue;
      }
      if (!Object.hasOwn(layout.tables, route.table)) {
        refused.push({ route, reason: invalid('table', route.table, "is not one of the injector's tables") });
        continue;
      }
      const n = this.normalize(route);
      const normalized = n.normalized;
      if (normalized === undefined) {
        refused.push({ route, reason: n.error });
        continue;
      }
      const last = n.slot;
      const placed =
        last?.live === true &&
        last.state.epoch === gen &&
        last.state.table === normalized.table &&
        last.state.family === normalized.family;
      let state = placed ? last.state : byTable.get(normalized.table)?.[normalized.family];
      if (state === undefined) {
        // Not one of the layout's protocols: renderInclude looks the name up, and may find another's.
        let name: string;
        try {
          name = protocolNameFor(layout, normalized.table, normalized.family);
        } catch (err) {
          refused.push({ route, reason: (err as Error).message });
          continue;
        }
        state = states.get(name);
        if (state === undefined) {
          refused.push({
            route,
            reason: invalid('family', route.family, `is not carried by this include (${route.prefix})`),
          });
          continue;
        }
      }
      const slot = placed ? last : state.slots.get(normalized.key);
      if (slot === undefined) {
        const line = `  route ${normalized.prefix} ${state.hop}${n.tail}`;
        const added: Slot = { state, live: true, normalized, tail: n.tail, line, gen, changed: gen };
        state.slots.set(normalized.key, added);
        state.added.push(added);
        n.slot = added;
        continue;
      }
      n.slot = slot;
      if (slot.gen === gen) {
        if (slot.normalized !== normalized && JSON.stringify(slot.normalized) !== JSON.stringify(normalized))
          refused.push({
            route,
            reason: invalid(
              'prefix',
              route.prefix,
              `appears twice in table ${route.table} with different attributes`,
            ),
          });
      } else {
        slot.gen = gen;
        state.kept++;
        if (slot.tail !== n.tail) {
          slot.normalized = normalized;
          slot.tail = n.tail;
          slot.line = `  route ${normalized.prefix} ${state.hop}${n.tail}`;
          slot.changed = gen;
          state.reattributed.push(slot);
        }
      }
    }

    const previousByName = new Map((since?.protocols ?? []).map((p) => [p.name, p]));
    const changes = new Map<string, RouteChanges | undefined>();
    const protocols: RenderedProtocol[] = [];
    const blocks: string[] = [];
    let changed = since === undefined || states.size !== since.protocols.length;
    for (const state of states.values()) {
      const fresh = state.fresh;
      const removed: Slot[] = [];
      if (state.kept < state.sizeBefore) {
        for (const slot of state.order) {
          if (slot.gen === gen) continue;
          removed.push(slot);
          slot.live = false;
          state.slots.delete(slot.normalized.key);
        }
      }
      const { added, reattributed } = state;
      if (
        !fresh &&
        added.length === 0 &&
        removed.length === 0 &&
        reattributed.length === 0 &&
        state.rendered
      ) {
        protocols.push(state.rendered);
        blocks.push(state.block);
        continue;
      }
      changed = true;
      if (fresh || added.length + removed.length > this.spliceLimit) {
        state.order = [...state.slots.values()].sort((a, b) => byKey(a.normalized, b.normalized));
        state.routes = state.order.map((s) => s.normalized);
        state.lines = new LineChunks(
          this.chunkLines,
          state.order.map((s) => s.line),
        );
      } else {
        const { order, lines } = state;
        const routes = state.routes.slice();
        for (const slot of removed) {
          const i = lowerBound(order, slot.normalized.key);
          order.splice(i, 1);
          routes.splice(i, 1);
          lines.remove(i);
        }
        for (const slot of added) {
          const i = lowerBound(order, slot.normalized.key);
          order.splice(i, 0, slot);
          routes.splice(i, 0, slot.normalized);
          lines.insert(i, slot.line);
        }
        for (const slot of reattributed) {
          const i = lowerBound(order, slot.normalized.key);
          routes[i] = slot.normalized;
          lines.replace(i, slot.line);
        }
        state.routes = routes;
      }
      const { name, table, family, nextHop } = state;
      const rendered: RenderedProtocol = { name, table, family, nextHop, routes: state.routes };
      state.rendered = rendered;
      state.block =
        `\n\nprotocol static ${name} {` + (bird2 ? `\n  ${family};` : '') + state.lines.text() + '\n}';
      protocols.push(rendered);
      blocks.push(state.block);
      if (fresh) {
        const before = previousByName.get(name);
        if (!before || JSON.stringify(before.nextHop) !== JSON.stringify(nextHop))
          changes.set(name, undefined);
        else {
          const c = routeChanges(before, rendered);
          if (c.upserted.length > 0 || c.removed.length > 0) changes.set(name, c);
        }
      } else {
        const upserted =
          added.length + reattributed.length > this.spliceLimit
            ? state.order.filter((s) => s.changed === gen).map((s) => s.normalized)
            : [...added, ...reattributed].map((s) => s.normalized).sort(byKey);
        changes.set(name, { upserted, removed: removed.map((s) => s.normalized) });
      }
    }
    for (const state of states.values()) {
      state.fresh = false;
      state.added = [];
      state.reattributed = [];
    }
    this.states = states;
    if (!changed && since) return { rendered: since, refused, since, changes: new Map() };
    let text = INCLUDE_HEADER;
    for (const block of blocks) text += block;
    const rendered: RenderedInclude = { text: text + '\n', protocols };
    this.previous = rendered;
    return { rendered, refused, since, changes };
  }

  /** The layout's protocols in render order: the previous call's state where the signature is the same. */
  private statesFor(layout: IncludeLayout, gen: number): Map<string, ProtocolState> {
    const dialect = layout.dialect ?? 'bird2';
    const states = new Map<string, ProtocolState>();
    for (const { name, table, family } of ownedProtocols(layout)) {
      const nextHop = layout.tables[table]?.[family] ?? layout.defaultNextHop ?? DEFAULT_NEXT_HOP;
      const hop = nextHopText(nextHop, family, name);
      const signature = `${dialect} ${table} ${family} ${JSON.stringify(nextHop)}`;
      const old = this.states.get(name);
      const state: ProtocolState =
        old?.signature === signature
          ? old
          : {
              name,
              table,
              family,
              nextHop,
              hop,
              signature,
              slots: new Map(),
              fresh: true,
              epoch: gen,
              order: [],
              routes: [],
              lines: new LineChunks(this.chunkLines),
              block: '',
              rendered: undefined,
              sizeBefore: 0,
              kept: 0,
              added: [],
              reattributed: [],
            };
      state.sizeBefore = state.slots.size;
      state.kept = 0;
      state.epoch = gen;
      states.set(name, state);
    }
    return states;
  }

  private normalize(route: DesiredRoute): Normalization {
    const cached = this.cache.get(route);
    if (
      cached !== undefined &&
      cached.table === route.table &&
      cached.prefix === route.prefix &&
      cached.family === route.family &&
      cached.bgp === route.bgp
    )
      return cached;
    const fresh = normalization(route);
    this.cache.set(route, fresh);
    return fresh;
  }
}

function invalid(field: string, value: unknown, reason: string): string {
  return new BirdInvalidInputError(field, value, reason).message;
}

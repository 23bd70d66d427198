import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { BirdClient } from './client.js';
import type { BirdConfigureOutcome } from './parse-configure.js';
import { BirdCommandSyntaxError, BirdConfigError, BirdReplyError, BirdVerifyError } from './errors.js';
import {
  checkBirdConfig,
  includeTargets,
  type BirdConfigCheck,
  type BirdConfigFile,
} from './check-config.js';
import type { BirdRouteExport } from './export-check.js';
import { birdCommands } from './commands.js';
import { readInclude, writeIncludeAtomically } from './include-file.js';
import { parseShowRoute } from './parse-routes.js';
import type { BirdReply } from './reply-reader.js';
import { ExportMemo, readExports } from './read-exports.js';
import type { BirdFamily } from './prefix.js';
import { SerialQueue } from './serial-queue.js';
import { IncludeRenderer } from './include-renderer.js';
import {
  changesSince,
  diffProtocol,
  heldRoutes,
  routeSignature,
  toDesiredRoute,
  type ChangePlan,
} from './route-diff.js';
import {
  includeProtocols,
  ownedProtocols,
  renderableLayout,
  type DesiredRoute,
  type IncludeLayout,
  type NormalizedRoute,
  type RefusedRoute,
  type RefusedTable,
  type RenderedInclude,
  type RenderedProtocol,
} from './render-include.js';

export interface BirdRouteInjectorOptions {
  readonly client: BirdClient;
  /**
   * A second connection to the same BIRD for the whole read-backs (`read()`, `exports()`, the reads of
   * `reconcile()`), so that a change never waits in line behind one: BIRD answers each connection in
   * turn, and a read of 10,000 routes takes it tens of ms. Default: `client`.
   */
  readonly readClient?: BirdClient;
  /** The include file the operator's BIRD config includes, e.g. `/etc/bird/rhi-routes.conf`. */
  readonly includePath: string;
  readonly layout: IncludeLayout;
  readonly logger?: Logger;
  /** How long to wait for a reconfiguration in progress (0004/0005) and for verification. Default 10 000 ms. */
  readonly settleTimeoutMs?: number;
}

/** What `set()` is given besides the routes. */
export interface BirdSetOptions {
  /**
   * Tables to own besides the layout's, with the layout's default next hop: e.g. every table the rules
   * in force use. Kept until the next `set()` (for `reconcile()` and `read()`).
   */
  readonly tables?: readonly string[];
}

/** What `set()`/`reconcile()` did. */
export interface BirdApplyResult {
  /** The include file was rewritten. */
  readonly wrote: boolean;
  /** `configure` was sent. */
  readonly configured: boolean;
  /** BIRD's answer to `configure`, when sent: `reconfigured`, or `in-progress`/`queued` (then waited out). */
  readonly outcome?: BirdConfigureOutcome;
  /** Routes left out of the include, each with its reason; present when there are some. The rest was applied. */
  readonly refused?: readonly RefusedRoute[];
  /** Protocols {@link BirdRouteInjector.disableWithdrawn} had disabled, enabled again after this `configure`. */
  readonly enabled?: readonly string[];
}

/** A static protocol disabled because BIRD refused every `configure` while it held a route to withdraw. */
export interface BirdDisabledProtocol {
  readonly protocol: string;
  readonly table: string;
  readonly family: BirdFamily;
  /** The routes it held that the last `set()` withdraws: the reason it was disabled. */
  readonly withdrawn: readonly string[];
  /** The routes it held that are still desired: withdrawn with it. */
  readonly alsoWithdrawn: readonly string[];
}

/** A desired set ready to apply: the include for the routes that can be rendered, and the others. */
interface Plan {
  readonly layout: IncludeLayout;
  /** The protocols the tables would have before BIRD's symbols were consulted. */
  readonly names: string;
  readonly rendered: RenderedInclude;
  readonly refused: readonly RefusedRoute[];
  /** The rendering `changes` is relative to: the renderer's previous one. */
  readonly since: RenderedInclude | undefined;
  readonly changes: ChangePlan;
}

const protocolNames = (layout: IncludeLayout) =>
  ownedProtocols(layout)
    .map((p) => p.name)
    .join(' ');

const POLL_MS = 5;
/** Up to this many changed routes per protocol are verified one by one; more read the whole protocol back. */
const TARGETED_VERIFY_LIMIT = 32;

/**
 * Makes BIRD hold exactly the desired routes, through a managed include file of static protocols and
 * `configure`. BIRD diffs static protocols in place, so only changed routes are announced or withdrawn and
 * BGP sessions stay up. Calls are serialised.
 */
export class BirdRouteInjector {
  private applied: RenderedInclude | undefined;
  private desired: Plan | undefined;
  /** The protocols (before refusals) of the last verified apply, checked against BIRD's symbols then. */
  private checkedNames: string | undefined;
  /** BIRD's symbols that are not ours, as read then. */
  private foreign = new Map<string, string>();
  private readonly queue = new SerialQueue();
  private readonly settleTimeoutMs: number;
  /** Protocols disableWithdrawn() disabled, enabled again after the next successful `configure`. */
  private readonly disabled = new Set<string>();
  /**
   * Per applied include, BIRD's reply listing each protocol's routes when it last matched it: a reconcile
   * that gets the same reply again (the same lines) knows BIRD holds the same routes, unparsed.
   */
  private readonly verified = new WeakMap<RenderedInclude, Map<string, BirdReply>>();
  private readonly exportMemo = new ExportMemo();
  private readonly renderer = new IncludeRenderer();

  constructor(private readonly options: BirdRouteInjectorOptions) {
    this.settleTimeoutMs = options.settleTimeoutMs ?? 10_000;
  }

  /**
   * Declares the complete set of routes. Unchanged since the last verified apply: no write, no configure.
   * The first call also reconciles: it rewrites the file or reconfigures only if disk or BIRD differ.
   * A route that cannot be rendered (bad prefix or attribute, a table or family the include cannot
   * carry) is left out and returned in `refused`; the others are applied. A table whose protocol names
   * BIRD's config already uses for something else is refused with its routes: checked with `show symbols`
   * whenever the set of protocols differs from the last verified apply's. After a failure (e.g.
   * BirdConfigError) the routes stay desired, and `reconcile()` retries them.
   *
   * The include is rendered incrementally: pass the same route object again for a route that did not
   * change, and a call costs what changed, not the size of the set. Route objects are read as immutable
   * values (a `bgp` object changed in place is not noticed); a new object is validated again.
   */
  async set(routes: readonly DesiredRoute[], options: BirdSetOptions = {}): Promise<BirdApplyResult> {
    const tables = options.tables ?? [];
    return this.serial(() => {
      // BIRD's symbols are read only when the protocols differ from the last verified apply's (a new
      // table, or after a failure): on the failover path, which changes routes only, the include is
      // written in the caller's turn.
      const names = protocolNames(renderableLayout(this.options.layout, tables).layout);
      if (this.applied !== undefined && names === this.checkedNames)
        return this.applyPlan(
          this.plan(routes, renderableLayout(this.options.layout, tables, this.foreign), names),
        );
      return this.foreignSymbols().then((foreign) => {
        this.foreign = foreign;
        return this.applyPlan(
          this.plan(routes, renderableLayout(this.options.layout, tables, foreign), names),
        );
      });
    });
  }

  /** Re-checks the file and BIRD against the last `set()` and repairs drift (BIRD restart, hand edit, lost file). */
  async reconcile(): Promise<BirdApplyResult> {
    // The include and BIRD are read first, outside the queue and on the read connection: a change that
    // comes meanwhile goes ahead (and verifies itself), and this round then finds nothing to repair.
    const applied = this.applied;
    let clean = false;
    if (applied !== undefined && this.disabled.size === 0) {
      try {
        clean = await this.matches(applied);
      } catch (err) {
        // As after a failed apply: the next call checks the file and BIRD from scratch.
        if (this.applied === applied) this.applied = undefined;
        throw err;
      }
    }
    return this.serial(async () => {
      if (!this.desired) return { wrote: false, configured: false };
      if (clean || (applied !== undefined && this.applied !== applied)) {
        this.options.logger?.debug(
          { event: 'birdRoutesApplied', wrote: false, configured: false },
          'BIRD routes applied',
        );
        return withRefused({ wrote: false, configured: false }, this.desired.refused);
      }
      return withRefused(await this.converge(this.desired, true), this.desired.refused);
    });
  }

  /** Whether the include file and BIRD hold exactly `applied`, read on the read connection. */
  private async matches(applied: RenderedInclude): Promise<boolean> {
    if ((await readInclude(this.options.includePath)) !== applied.text) return false;
    let verified = this.verified.get(applied);
    if (!verified) this.verified.set(applied, (verified = new Map()));
    for (const protocol of applied.protocols) {
      const reply = await this.routesReply(protocol, this.reader);
      if (!reply) return false;
      if (sameReply(verified.get(protocol.name), reply)) continue;
      const { missing, unexpected } = diffProtocol(protocol, heldRoutes(protocol, parseShowRoute(reply)));
      if (missing.length > 0 || unexpected.length > 0) return false;
      verified.set(protocol.name, reply);
    }
    return true;
  }

  private get reader(): BirdClient {
    return this.options.readClient ?? this.options.client;
  }

  /**
   * The routes BIRD holds right now in the injector's protocols: the layout's, the tables of the last
   * `set()`, and those the include file on disk declares (after a restart, the tables of before).
   */
  async read(): Promise<DesiredRoute[]> {
    const layout = this.desired?.layout ?? renderableLayout(this.options.layout).layout;
    const onDisk = await readInclude(this.options.includePath);
    const protocols = new Map(ownedProtocols(layout).map((p) => [p.name, p]));
    for (const p of includeProtocols(onDisk ?? '', this.options.layout))
      if (!protocols.has(p.name)) protocols.set(p.name, p);
    const held = await Promise.all(
      [...protocols.values()].map(async (p) => (await this.held(p, this.reader)) ?? []),
    );
    return held.flat().map(toDesiredRoute);
  }

  /**
   * What BIRD's running config defines (name to kind, e.g. `filter`, `protocol`), less the protocols our
   * include file declares: the names a new table's protocols must not take. An older BIRD without
   * `show symbols` gives none.
   */
  async foreignSymbols(): Promise<Map<string, string>> {
    let symbols;
    try {
      symbols = await this.options.client.showSymbols();
    } catch (err) {
      if (err instanceof BirdCommandSyntaxError) return new Map();
      throw err;
    }
    const ours = new Set(
      includeProtocols((await readInclude(this.options.includePath)) ?? '', this.options.layout).map(
        (p) => p.name,
      ),
    );
    return new Map(
      symbols.filter((s) => s.kind !== 'undefined' && !ours.has(s.name)).map((s) => [s.name, s.kind]),
    );
  }

  /**
   * Tells an operator whether BIRD's config at `configPath` includes our file and exports our protocols, and
   * whether the running BIRD has them. Follows plain `include "file";` lines (not globs), up to 16 files.
   */
  async checkConfig(configPath: string, options: BirdSetOptions = {}): Promise<BirdConfigCheck> {
    const files: BirdConfigFile[] = [];
    const queue = [configPath];
    const own = resolve(this.options.includePath);
    while (queue.length > 0 && files.length < 16) {
      const path = queue.shift() ?? '';
      if (path === own || files.some((f) => f.path === path)) continue;
      const text = await readInclude(path);
      if (text === undefined) continue;
      const file = { path, text };
      files.push(file);
      queue.push(...includeTargets(file).filter((t) => !t.includes('*')));
    }
    const running = new Set((await this.options.client.showProtocols()).map((p) => p.name));
    const layout = renderableLayout(this.options.layout, options.tables).layout;
    const protocols = ownedProtocols(layout).map((p) => p.name);
    const declared = new Set(
      includeProtocols((await readInclude(own)) ?? '', this.options.layout).map((p) => p.name),
    );
    return checkBirdConfig(files, { includePath: this.options.includePath, protocols, running, declared });
  }

  /**
   * Which routing protocols (BGP, OSPF, RIP, Babel) send each route BIRD holds for us, and why the others
   * do not: what a router can receive, not only what sits in a table. Not serialised with applies (it
   * must not delay one): null when an apply ran meanwhile, or before the first one.
   */
  async exports(): Promise<BirdRouteExport[] | null> {
    const applied = this.applied;
    if (!applied) return null;
    const result = await readExports(this.reader, applied.protocols, this.exportMemo);
    return this.applied === applied ? result : null;
  }

  /**
   * The fail-safe for a BIRD that refuses every `configure` (BirdConfigError: an error in its own config,
   * so no include can be applied, withdrawals included): `disable` each of our static protocols that holds
   * a route the last `set()` withdraws. BIRD runs `disable` whatever its config file says, and the
   * protocol's routes leave the routers, the desired ones with it. The next `configure` that succeeds
   * brings them back (BIRD restarts a protocol disabled from the CLI when it reconfigures it; `enable` is
   * sent as well). Returns the protocols disabled now.
   */
  disableWithdrawn(): Promise<BirdDisabledProtocol[]> {
    return this.serial(async () => {
      const plan = this.desired;
      if (!plan) return [];
      const wanted = new Map(
        plan.rendered.protocols.map((p) => [p.name, new Set(p.routes.map((r) => r.prefix))]),
      );
      const protocols = new Map(ownedProtocols(plan.layout).map((p) => [p.name, p]));
      const onDisk = (await readInclude(this.options.includePath)) ?? '';
      for (const p of includeProtocols(onDisk, this.options.layout))
        if (!protocols.has(p.name)) protocols.set(p.name, p);
      const disabled: BirdDisabledProtocol[] = [];
      let failed: unknown;
      // A protocol already disabled holds nothing: it is not disabled again.
      for (const p of protocols.values()) {
        try {
          const held = ((await this.held(p)) ?? []).map((r) => r.prefix);
          const keep = wanted.get(p.name) ?? new Set<string>();
          const withdrawn = held.filter((prefix) => !keep.has(prefix));
          if (withdrawn.length === 0) continue;
          await this.options.client.disable(p.name);
          this.disabled.add(p.name);
          const alsoWithdrawn = held.filter((prefix) => keep.has(prefix));
          disabled.push({ protocol: p.name, table: p.table, family: p.family, withdrawn, alsoWithdrawn });
        } catch (err) {
          failed ??= err;
        }
      }
      // Those disabled are told even when another could not be: it is tried again at the next failure.
      if (failed !== undefined && disabled.length === 0) throw failed;
      return disabled;
    });
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    return this.queue.run(task);
  }

  /** The include for the routes that can be rendered under the widened layout, and the refused ones. */
  private plan(
    routes: readonly DesiredRoute[],
    widened: { layout: IncludeLayout; refused: readonly RefusedTable[] },
    names: string,
  ): Plan {
    const { rendered, refused, since, changes } = this.renderer.render(
      routes,
      widened.layout,
      widened.refused,
    );
    return { layout: widened.layout, names, rendered, refused, since, changes };
  }

  /** The routes that changed since the last verified apply: from the renderer's pass when that is its base. */
  private changesSinceApplied(plan: Plan, applied: RenderedInclude): ChangePlan {
    return plan.since === applied ? plan.changes : changesSince(applied, plan.rendered);
  }

  private async applyPlan(plan: Plan): Promise<BirdApplyResult> {
    this.desired = plan;
    if (this.applied !== undefined && !differs(this.applied, plan)) {
      this.checkedNames = plan.names;
      return withRefused({ wrote: false, configured: false }, plan.refused);
    }
    return withRefused(await this.converge(plan, this.applied === undefined), plan.refused);
  }

  private async converge(plan: Plan, checkAll: boolean): Promise<BirdApplyResult> {
    try {
      const result = await this.apply(plan, checkAll);
      this.checkedNames = plan.names;
      return result;
    } catch (err) {
      // The file or BIRD may now hold something in between: the next call checks both from scratch.
      this.applied = undefined;
      throw err;
    }
  }

  private async apply(desired: Plan, checkAll: boolean): Promise<BirdApplyResult> {
    const { includePath, client, logger } = this.options;
    const rendered = desired.rendered;
    // After a verified apply the file holds what we wrote; only reconcile re-reads it to catch hand edits.
    const onDisk = checkAll || !this.applied ? await readInclude(includePath) : this.applied.text;
    const wrote = onDisk !== rendered.text;
    if (wrote) writeIncludeAtomically(includePath, rendered.text);
    const plan = checkAll || !this.applied ? undefined : this.changesSinceApplied(desired, this.applied);
    const changed = plan ? rendered.protocols.filter((p) => plan.has(p.name)) : rendered.protocols;
    // A protocol disabled as a fail-safe comes back only through a `configure` that succeeds.
    const configured = wrote || this.disabled.size > 0 || (await this.drift(changed)).length > 0;
    let outcome: BirdConfigureOutcome | undefined;
    let enabled: string[] = [];
    if (configured) {
      try {
        outcome = (await client.configure()).outcome;
        if (outcome === 'in-progress' || outcome === 'queued') await this.waitUntilUp();
      } catch (err) {
        if (err instanceof BirdConfigError && wrote) {
          writeIncludeAtomically(includePath, onDisk);
          // The caller gets the error; this only tells that the include was put back.
          logger?.debug(
            { event: 'birdConfigRejected', op: 'configure', reason: err.message },
            'BIRD rejected the configuration; include restored',
          );
        }
        throw err;
      }
      enabled = await this.enableDisabled();
      await this.verify(changed, plan);
    }
    this.applied = rendered;
    logger?.debug({ event: 'birdRoutesApplied', wrote, configured, outcome }, 'BIRD routes applied');
    return {
      wrote,
      configured,
      ...(outcome === undefined ? {} : { outcome }),
      ...(enabled.length ? { enabled } : {}),
    };
  }

  /** After a `configure` that succeeded: `enable` for each protocol disabled as a fail-safe (gone: nothing to do). */
  private async enableDisabled(): Promise<string[]> {
    const names = [...this.disabled];
    for (const name of names) {
      try {
        await this.options.client.enable(name);
      } catch (err) {
        // 8003 No protocols match: the protocol left the include meanwhile.
        if (!(err instanceof BirdReplyError && err.replyCode === 8003)) throw err;
      }
      this.disabled.delete(name);
    }
    return names;
  }

  private async waitUntilUp(): Promise<void> {
    const deadline = Date.now() + this.settleTimeoutMs;
    while ((await this.options.client.showStatus()).state !== 'up' && Date.now() < deadline)
      await sleep(POLL_MS);
  }

  private async verify(protocols: readonly RenderedProtocol[], plan: ChangePlan | undefined): Promise<void> {
    const deadline = Date.now() + this.settleTimeoutMs;
    for (;;) {
      const drift = await this.drift(protocols, plan);
      const first = drift[0];
      if (!first) return;
      if (Date.now() >= deadline) throw new BirdVerifyError(first.protocol, first.missing, first.unexpected);
      await sleep(POLL_MS);
    }
  }

  /** Differences between BIRD and the rendered protocols; with a plan, small changes are checked route by route. */
  private async drift(
    protocols: readonly RenderedProtocol[],
    plan?: ChangePlan,
  ): Promise<{ protocol: string; missing: string[]; unexpected: string[] }[]> {
    const results = [];
    for (const protocol of protocols) {
      const changes = plan?.get(protocol.name);
      if (changes && changes.upserted.length + changes.removed.length <= TARGETED_VERIFY_LIMIT) {
        results.push({
          protocol: protocol.name,
          ...(await this.targetedDrift(protocol, changes.upserted, changes.removed)),
        });
        continue;
      }
      const held = await this.held(protocol);
      if (!held)
        results.push({
          protocol: protocol.name,
          missing: [`protocol ${protocol.name} is not configured`],
          unexpected: [],
        });
      else results.push({ protocol: protocol.name, ...diffProtocol(protocol, held) });
    }
    return results.filter((d) => d.missing.length > 0 || d.unexpected.length > 0);
  }

  /** Checks the route count and each changed route, instead of reading the whole protocol back. */
  private async targetedDrift(
    protocol: RenderedProtocol,
    upserted: readonly NormalizedRoute[],
    removed: readonly NormalizedRoute[],
  ): Promise<{ missing: string[]; unexpected: string[] }> {
    const { client } = this.options;
    const missing: string[] = [];
    const unexpected: string[] = [];
    for (const route of upserted) {
      const held = heldRoutes(
        protocol,
        await client.showRoute({ prefix: route.prefix, protocol: protocol.name, all: true }),
      );
      const want = routeSignature(route);
      if (!held.some((h) => routeSignature(h) === want)) missing.push(want);
      unexpected.push(...held.map(routeSignature).filter((s) => s !== want));
    }
    for (const route of removed) {
      const held = heldRoutes(
        protocol,
        await client.showRoute({ prefix: route.prefix, protocol: protocol.name }),
      );
      unexpected.push(...held.map((h) => h.prefix));
    }
    const counted = (await client.showRouteCount({ protocol: protocol.name })).reduce(
      (sum, c) => sum + c.routes,
      0,
    );
    if (counted !== protocol.routes.length) {
      (counted < protocol.routes.length ? missing : unexpected).push(
        `${Math.abs(counted - protocol.routes.length)} route(s) by count`,
      );
    }
    return { missing, unexpected };
  }

  /**
   * BIRD's reply listing the routes of one protocol (8001, none, as a reply without lines), or undefined
   * if BIRD does not know the protocol (9001: unknown symbol).
   */
  private async routesReply(protocol: { name: string }, client: BirdClient): Promise<BirdReply | undefined> {
    try {
      return await client.command(birdCommands.showRoute({ protocol: protocol.name, all: true }));
    } catch (err) {
      if (err instanceof BirdCommandSyntaxError) return undefined;
      if (err instanceof BirdReplyError && err.replyCode === 8001) return NO_ROUTES;
      throw err;
    }
  }

  /** Routes of one protocol, or undefined if BIRD does not know the protocol (9001: unknown symbol). */
  private async held(
    protocol: { name: string; table: string; family: 'ipv4' | 'ipv6' },
    client: BirdClient = this.options.client,
  ) {
    try {
      return heldRoutes(protocol, await client.showRoute({ protocol: protocol.name, all: true }));
    } catch (err) {
      if (err instanceof BirdCommandSyntaxError) return undefined;
      throw err;
    }
  }
}

const NO_ROUTES: BirdReply = { code: 8001, text: 'Network not found', lines: [] };

/** Whether two replies have the same lines (BIRD's route listing repeats itself while nothing changes). */
function sameReply(a: BirdReply | undefined, b: BirdReply): boolean {
  if (a === undefined || a.code !== b.code || a.lines.length !== b.lines.length) return false;
  for (let i = 0; i < a.lines.length; i++) {
    const x = a.lines[i] as BirdReply['lines'][number];
    const y = b.lines[i] as BirdReply['lines'][number];
    if (x.code !== y.code || x.text !== y.text) return false;
  }
  return true;
}

function withRefused(result: BirdApplyResult, refused: readonly RefusedRoute[]): BirdApplyResult {
  return refused.length ? { ...result, refused } : result;
}

/**
 * Whether the plan's include differs from the applied one. The renderer's own answer when the applied one
 * is its base: the same object (nothing changed), or a route changed in a protocol both have.
 */
function differs(applied: RenderedInclude, plan: Plan): boolean {
  if (plan.rendered === applied) return false;
  if (plan.since === applied && [...plan.changes.values()].some((c) => c !== undefined)) return true;
  return applied.text !== plan.rendered.text;
}

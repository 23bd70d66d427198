import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { BirdClient } from './client.js';
import type { BirdConfigureOutcome } from './parse-configure.js';
import { BirdCommandSyntaxError, BirdConfigError, BirdVerifyError } from './errors.js';
import {
  checkBirdConfig,
  includeTargets,
  type BirdConfigCheck,
  type BirdConfigFile,
} from './check-config.js';
import { readInclude, writeIncludeAtomically } from './include-file.js';
import { SerialQueue } from './serial-queue.js';
import { diffProtocol, heldRoutes, routeChanges, routeSignature, toDesiredRoute } from './route-diff.js';
import {
  ownedProtocols,
  renderInclude,
  type DesiredRoute,
  type IncludeLayout,
  type NormalizedRoute,
  type RenderedInclude,
  type RenderedProtocol,
} from './render-include.js';

export interface BirdRouteInjectorOptions {
  readonly client: BirdClient;
  /** The include file the operator's BIRD config includes, e.g. `/etc/bird/rhi-routes.conf`. */
  readonly includePath: string;
  readonly layout: IncludeLayout;
  readonly logger?: Logger;
  /** How long to wait for a reconfiguration in progress (0004/0005) and for verification. Default 10 000 ms. */
  readonly settleTimeoutMs?: number;
}

/** What `set()`/`reconcile()` did. */
export interface BirdApplyResult {
  /** The include file was rewritten. */
  readonly wrote: boolean;
  /** `configure` was sent. */
  readonly configured: boolean;
  /** BIRD's answer to `configure`, when sent: `reconfigured`, or `in-progress`/`queued` (then waited out). */
  readonly outcome?: BirdConfigureOutcome;
}

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
  private desired: RenderedInclude | undefined;
  private readonly queue = new SerialQueue();
  private readonly settleTimeoutMs: number;

  constructor(private readonly options: BirdRouteInjectorOptions) {
    this.settleTimeoutMs = options.settleTimeoutMs ?? 10_000;
  }

  /**
   * Declares the complete set of routes. Unchanged since the last verified apply: no write, no configure.
   * The first call also reconciles: it rewrites the file or reconfigures only if disk or BIRD differ.
   * Invalid routes reject with BirdInvalidInputError before anything is touched. After a failure (e.g.
   * BirdConfigError) the routes stay desired, and `reconcile()` retries them.
   */
  async set(routes: readonly DesiredRoute[]): Promise<BirdApplyResult> {
    const rendered = renderInclude(routes, this.options.layout);
    return this.serial(async () => {
      this.desired = rendered;
      if (this.applied?.text === rendered.text) return { wrote: false, configured: false };
      return this.converge(rendered, this.applied === undefined);
    });
  }

  /** Re-checks the file and BIRD against the last `set()` and repairs drift (BIRD restart, hand edit, lost file). */
  reconcile(): Promise<BirdApplyResult> {
    return this.serial(async () => {
      if (!this.desired) return { wrote: false, configured: false };
      return this.converge(this.desired, true);
    });
  }

  /** The routes BIRD holds right now in the injector's protocols. */
  async read(): Promise<DesiredRoute[]> {
    const held = await Promise.all(
      ownedProtocols(this.options.layout).map(async (p) => (await this.held(p)) ?? []),
    );
    return held.flat().map(toDesiredRoute);
  }

  /**
   * Tells an operator whether BIRD's config at `configPath` includes our file and exports our protocols, and
   * whether the running BIRD has them. Follows plain `include "file";` lines (not globs), up to 16 files.
   */
  async checkConfig(configPath: string): Promise<BirdConfigCheck> {
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
    const protocols = ownedProtocols(this.options.layout).map((p) => p.name);
    return checkBirdConfig(files, { includePath: this.options.includePath, protocols, running });
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    return this.queue.run(task);
  }

  private async converge(rendered: RenderedInclude, checkAll: boolean): Promise<BirdApplyResult> {
    try {
      return await this.apply(rendered, checkAll);
    } catch (err) {
      // The file or BIRD may now hold something in between: the next call checks both from scratch.
      this.applied = undefined;
      throw err;
    }
  }

  private async apply(rendered: RenderedInclude, checkAll: boolean): Promise<BirdApplyResult> {
    const { includePath, client, logger } = this.options;
    // After a verified apply the file holds what we wrote; only reconcile re-reads it to catch hand edits.
    const onDisk = checkAll || !this.applied ? await readInclude(includePath) : this.applied.text;
    const wrote = onDisk !== rendered.text;
    if (wrote) writeIncludeAtomically(includePath, rendered.text);
    const plan = checkAll || !this.applied ? undefined : changesSince(this.applied, rendered);
    const changed = plan ? rendered.protocols.filter((p) => plan.has(p.name)) : rendered.protocols;
    const configured = wrote || (await this.drift(changed)).length > 0;
    let outcome: BirdConfigureOutcome | undefined;
    if (configured) {
      try {
        outcome = (await client.configure()).outcome;
        if (outcome === 'in-progress' || outcome === 'queued') await this.waitUntilUp();
      } catch (err) {
        if (err instanceof BirdConfigError && wrote) {
          writeIncludeAtomically(includePath, onDisk);
          logger?.warn(
            { event: 'birdConfigRejected', op: 'configure', err },
            'BIRD rejected the configuration; include restored',
          );
        }
        throw err;
      }
      await this.verify(changed, plan);
    }
    this.applied = rendered;
    logger?.debug({ event: 'birdRoutesApplied', wrote, configured, outcome }, 'BIRD routes applied');
    return outcome === undefined ? { wrote, configured } : { wrote, configured, outcome };
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

  /** Routes of one protocol, or undefined if BIRD does not know the protocol (9001: unknown symbol). */
  private async held(protocol: { name: string; table: string; family: 'ipv4' | 'ipv6' }) {
    try {
      return heldRoutes(
        protocol,
        await this.options.client.showRoute({ protocol: protocol.name, all: true }),
      );
    } catch (err) {
      if (err instanceof BirdCommandSyntaxError) return undefined;
      throw err;
    }
  }
}

/** Per changed protocol, the routes that changed; undefined entries mean "read the whole protocol back". */
type ChangePlan = Map<string, { upserted: NormalizedRoute[]; removed: NormalizedRoute[] } | undefined>;

function changesSince(before: RenderedInclude, after: RenderedInclude): ChangePlan {
  const plan: ChangePlan = new Map();
  for (const protocol of after.protocols) {
    const previous = before.protocols.find((b) => b.name === protocol.name);
    if (!previous || JSON.stringify(previous.nextHop) !== JSON.stringify(protocol.nextHop)) {
      plan.set(protocol.name, undefined);
      continue;
    }
    const changes = routeChanges(previous, protocol);
    if (changes.upserted.length > 0 || changes.removed.length > 0) plan.set(protocol.name, changes);
  }
  return plan;
}

import { randomUUID } from 'node:crypto';
import type { Command, DrainApiAnswer, NodeAnswer, OperatorAction } from '@rhi/contracts';
import { drainWhatIf } from '../rollout/drain-plan.js';
import { guard, type GuardVerdict } from '../rollout/guard.js';
import { matchesSelector, parseSelector } from '@rhi/contracts';
import { byName } from '../rollout/step-plan.js';
import type { WhatIfResult } from '../rollout/what-if.js';
import type { NodeCommandsPort } from '../ports.js';
import type { FleetView } from '../view/fleet-view.js';

/** A drain or undrain that cannot be done: the code says why, for the API to answer with. */
export class DrainServiceError extends Error {
  constructor(
    readonly code: 'NATS_UNAVAILABLE' | 'NODE_NOT_FOUND' | 'DRAIN_NO_NODES' | 'DRAIN_BLOCKED',
    message: string,
    /** The drain's what-if and the guard's verdict, for a blocked drain. */
    readonly judged?: { readonly whatIf: WhatIfResult; readonly guard: GuardVerdict },
  ) {
    super(message);
    this.name = 'DrainServiceError';
  }
}

/** What the service works over. */
export interface DrainServiceDeps {
  /** The command channel while NATS is connected, else null. */
  readonly commands: () => NodeCommandsPort | null;
  readonly view: FleetView;
  /** The fewest advertisers of each VIP (the config's `fleet.minimumAdvertisers`). */
  readonly minimum: (id: string) => number;
  readonly now?: () => Date;
}

/** Which nodes: one by name, or every node a label selector matches. */
export type DrainTarget = { readonly node: string } | { readonly selector: string };

/** A drain or undrain asked for. */
export interface DrainRequest {
  readonly target: DrainTarget;
  readonly by: string;
  readonly reason?: string;
  /** Drain past the guard: the reason is recorded. */
  readonly force?: string;
  /**
   * De-prefer the routes first and withdraw them once HAProxy's frontend sessions fall to this many (or at
   * `timeoutSec`, the agent's default when absent).
   */
  readonly waitSessions?: number;
  readonly timeoutSec?: number;
}

/** What a drain did: the action recorded (each node's answer), and how the guard judged it. */
export type DrainAnswer = DrainApiAnswer;

/** Commands sent at once to a label group. */
const CONCURRENCY = 64;

/**
 * Drains and undrains from the controller: the nodes resolved from the fleet view, a drain judged by the
 * same minimum-advertiser guard as a rollout (refused unless forced with a reason), the command sent to
 * each node up, and the action, with every node's answer, put in the timeline. A refused drain sends
 * nothing.
 */
export class DrainService {
  constructor(private readonly deps: DrainServiceDeps) {}

  async drain(req: DrainRequest): Promise<DrainAnswer> {
    const commands = this.commands();
    const nodes = this.resolve(req.target);
    const statuses = nodes.flatMap((name) => {
      const n = this.deps.view.node(name);
      return n ? [{ name, status: n.status, lost: n.summary.state === 'lost' }] : [];
    });
    const advertisers = (id: string) => this.deps.view.vip(id)?.advertisers ?? 0;
    const whatIf = drainWhatIf(statuses, advertisers, this.deps.view.nodeCount);
    const force = req.force === undefined ? undefined : { by: req.by, reason: req.force };
    const verdict = guard(whatIf, { minimum: this.deps.minimum, ...(force ? { force } : {}) });
    if (!verdict.allowed)
      throw new DrainServiceError(
        'DRAIN_BLOCKED',
        `draining ${targetText(req.target)} would leave ${verdict.blockers.length} VIP(s) below their minimum: nothing was sent (force it with a reason)`,
        { whatIf, guard: verdict },
      );
    const action = await this.send(commands, 'drain', req, nodes, verdict);
    return { action, guard: verdict, whatIf };
  }

  async undrain(req: DrainRequest): Promise<DrainAnswer> {
    const commands = this.commands();
    const action = await this.send(commands, 'undrain', req, this.resolve(req.target), null);
    return { action, guard: null, whatIf: null };
  }

  private async send(
    commands: NodeCommandsPort,
    type: 'drain' | 'undrain',
    req: DrainRequest,
    nodes: readonly string[],
    verdict: GuardVerdict | null,
  ): Promise<OperatorAction> {
    const answers: NodeAnswer[] = new Array(nodes.length);
    let next = 0;
    const worker = async () => {
      while (next < nodes.length) {
        const k = next++;
        const node = nodes[k]!;
        if (this.deps.view.node(node)?.summary.state === 'lost') {
          answers[k] = { node, result: 'noAnswer', reason: 'the node is lost: nothing was sent' };
          continue;
        }
        const id = randomUUID();
        const command: Command =
          type === 'drain'
            ? {
                schema: 'rhi.v1.command',
                id,
                type,
                ...(req.reason === undefined ? {} : { reason: req.reason }),
                ...(req.waitSessions === undefined ? {} : { waitSessions: req.waitSessions }),
                ...(req.timeoutSec === undefined ? {} : { timeoutSec: req.timeoutSec }),
              }
            : { schema: 'rhi.v1.command', id, type };
        const ack = await commands.send(node, command);
        answers[k] = ack
          ? { node, result: ack.result, ...(ack.reason === undefined ? {} : { reason: ack.reason }) }
          : { node, result: 'noAnswer', reason: 'no answer within the timeout' };
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, nodes.length) }, worker));
    const forced =
      verdict?.forced && verdict.blockers.length > 0
        ? { reason: verdict.forced.reason, blockers: verdict.blockers.length }
        : undefined;
    const action: OperatorAction = {
      schema: 'rhi.v1.action',
      action: type,
      by: req.by,
      time: (this.deps.now ?? (() => new Date()))().toISOString(),
      target: targetText(req.target),
      ...(req.reason === undefined ? {} : { reason: req.reason }),
      ...(forced ? { forced } : {}),
      answers,
    };
    await commands.record(action);
    return action;
  }

  /** The nodes of a target, by name; a named node the view does not know, or a selector matching none, throws. */
  private resolve(target: DrainTarget): string[] {
    if ('node' in target) {
      if (!this.deps.view.node(target.node))
        throw new DrainServiceError('NODE_NOT_FOUND', `no node '${target.node}' has reported`);
      return [target.node];
    }
    const selector = parseSelector(target.selector);
    const names = this.deps.view
      .nodes()
      .filter((n) => matchesSelector(selector, n.labels))
      .map((n) => n.name)
      .sort(byName);
    if (names.length === 0)
      throw new DrainServiceError('DRAIN_NO_NODES', `the selector '${target.selector}' matches no node`);
    return names;
  }

  private commands(): NodeCommandsPort {
    const commands = this.deps.commands();
    if (!commands)
      throw new DrainServiceError('NATS_UNAVAILABLE', 'NATS is unreachable: commands go over NATS');
    return commands;
  }
}

const targetText = (t: DrainTarget) => ('node' in t ? t.node : t.selector);

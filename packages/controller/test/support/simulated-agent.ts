import type { KeyObject } from 'node:crypto';
import {
  CommandSchema,
  decodeRuleSetRecord,
  jetstream as names,
  ruleSetKeys,
  RuleSetAssignmentSchema,
  subjects,
  verifySignedRuleSet,
  type Ack,
  type Command,
  type NodeStatus,
  type RouteStatus,
  type RuleSetAck,
} from '@rhi/contracts';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { NatsInstance } from '@rhi/test-support';
import { healthReport } from './health.js';
import { route, status } from './statuses.js';

/**
 * What a simulated agent does with a rule set assigned to it: apply it (after checking its signature,
 * as the agent does), reject it (`rejectOnce`: this one, and apply the next), or never answer.
 */
export type AgentBehaviour = 'apply' | 'reject' | 'rejectOnce' | 'silent';

/** A simulated agent's options. */
export interface SimulatedAgentOptions {
  readonly labels?: Record<string, string>;
  /** The keys it trusts, by key id. */
  readonly trusted: ReadonlyMap<string, KeyObject>;
  readonly behaviour?: AgentBehaviour;
  /** The routes its status shows for a rule set it runs (default: one advertised VIP). */
  readonly routes?: (serial: number) => RouteStatus[];
  /** What it runs at the start. */
  readonly running?: { readonly serial: number; readonly hash: string };
  /** Heartbeats this often (the controller's `fleet.heartbeatMs`). Default 1000. */
  readonly heartbeatMs?: number;
}

const iso = () => new Date().toISOString();

/**
 * An agent made of a real NATS client: it reads its `assign.<node>` (watching the key), fetches the
 * record named, verifies the signature with the keys it trusts, and acks on `rhi.v1.ack.<node>` as the
 * agent does; its status says what it runs. A bad signature is rejected whatever the behaviour.
 */
export class SimulatedAgent {
  behaviour: AgentBehaviour;
  readonly acks: RuleSetAck[] = [];
  running: { serial: number; hash: string } | null;
  /** Whether a drain command left it drained (it then advertises nothing). */
  drained: { reason?: string } | null = null;
  /** The commands it was sent. */
  readonly commands: Command[] = [];
  private seq = 1;
  private stopWatch: (() => void) | null = null;
  private beat: NodeJS.Timeout | null = null;

  private constructor(
    readonly node: string,
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    private readonly options: SimulatedAgentOptions,
  ) {
    this.behaviour = options.behaviour ?? 'apply';
    this.running = options.running ? { ...options.running } : null;
  }

  static async start(
    nats: NatsInstance,
    node: string,
    options: SimulatedAgentOptions,
  ): Promise<SimulatedAgent> {
    const nc = await connect({ servers: nats.url, user: nats.user, pass: nats.password });
    const kv = await new Kvm(nc).create(names.ruleSetBucket);
    const agent = new SimulatedAgent(node, nc, kv, options);
    agent.publishStatus();
    nc.publish(subjects.health(node), JSON.stringify(healthReport(node, { time: iso() })));
    await agent.follow();
    agent.answerCommands();
    agent.beat = setInterval(() => agent.heartbeat(), options.heartbeatMs ?? 1000);
    return agent;
  }

  private heartbeat(): void {
    const beat = { schema: 'rhi.v1.heartbeat', node: this.node, time: iso(), seq: this.seq - 1 };
    this.nc.publish(subjects.heartbeat(this.node), JSON.stringify(beat));
  }

  /** Answers drain and undrain commands as the agent does: applied, and its status says so. */
  private answerCommands(): void {
    this.nc.subscribe(subjects.nodeCommand(this.node), {
      callback: (err, msg) => {
        if (err) return;
        const command = CommandSchema.parse(msg.json());
        this.commands.push(command);
        if (command.type === 'drain')
          this.drained = command.reason === undefined ? {} : { reason: command.reason };
        else if (command.type === 'undrain') this.drained = null;
        const ack: Ack = { schema: 'rhi.v1.ack', id: command.id, node: this.node, result: 'applied' };
        msg.respond(JSON.stringify(ack));
        this.publishStatus();
      },
    });
  }

  /** Publishes its status: what it runs and its routes (withdrawn while drained). */
  publishStatus(routes?: RouteStatus[]): void {
    const serial = this.running?.serial ?? 0;
    const own = routes ?? this.options.routes?.(serial) ?? [route('198.18.220.1/32', { since: iso() })];
    const shown = this.drained
      ? own.map((r) => ({ ...r, desired: false, inBird: false, reason: 'drained' }))
      : own;
    const s: NodeStatus = status(this.node, {
      time: iso(),
      seq: this.seq++,
      labels: this.options.labels ?? { site: 'par1' },
      ruleSet: this.running
        ? { serial, hash: this.running.hash, source: 'controller', appliedAt: iso() }
        : null,
      drain: this.drained
        ? { drained: true, since: iso(), ...this.drained, mode: 'withdraw' }
        : { drained: false },
      routes: shown,
    });
    this.nc.publish(subjects.status(this.node), JSON.stringify(s));
  }

  private async follow(): Promise<void> {
    const watch = await this.kv.watch({ key: ruleSetKeys.assignment(this.node) });
    this.stopWatch = () => watch.stop();
    void (async () => {
      for await (const e of watch) {
        if (e.operation !== 'PUT') continue;
        await this.answer(e.json()).catch(() => undefined);
      }
    })();
  }

  private async answer(value: unknown): Promise<void> {
    const a = RuleSetAssignmentSchema.parse(value);
    if (this.behaviour === 'silent') return;
    const entry = await this.kv.get(ruleSetKeys.record(a.serial));
    const ack = (result: 'applied' | 'rejected', code?: string, reason?: string): RuleSetAck => ({
      schema: 'rhi.v1.ruleset.ack',
      node: this.node,
      serial: a.serial,
      hash: a.hash,
      result,
      ...(code === undefined ? {} : { code }),
      ...(reason === undefined ? {} : { reason }),
      time: iso(),
    });
    let out: RuleSetAck;
    if (!entry || entry.operation !== 'PUT') out = ack('rejected', 'RULESET_RECORD_MISSING', 'no record');
    else {
      const record = decodeRuleSetRecord(entry.value, ruleSetKeys.record(a.serial));
      const verdict = verifySignedRuleSet(record.signed, this.options.trusted);
      if (!verdict.ok) out = ack('rejected', verdict.code, verdict.reason);
      else if (this.behaviour === 'reject' || this.behaviour === 'rejectOnce') {
        if (this.behaviour === 'rejectOnce') this.behaviour = 'apply';
        out = ack('rejected', 'RULESET_UNKNOWN_PROXIES', 'b:be_missing is not in this HAProxy');
      } else out = ack('applied');
    }
    if (out.result === 'applied') {
      this.running = { serial: a.serial, hash: a.hash };
      this.publishStatus();
    }
    this.acks.push(out);
    this.nc.publish(subjects.ruleSetAck(this.node), JSON.stringify(out));
  }

  async stop(): Promise<void> {
    if (this.beat) clearInterval(this.beat);
    this.stopWatch?.();
    await this.nc.close();
  }
}

import {
  AckSchema,
  jetstream as names,
  subjects,
  type Ack,
  type Command,
  type OperatorAction,
} from '@rhi/contracts';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NodeCommandsPort } from '../ports.js';

/** How long a node has to answer a command. */
export const COMMAND_TIMEOUT_MS = 5000;

/**
 * Commands to nodes over core NATS request/reply (the agent answers with an `Ack`); operators' actions
 * published into the events stream. An answer that is not an `Ack` of that node and command counts as
 * none.
 */
export class NatsNodeCommands implements NodeCommandsPort {
  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = COMMAND_TIMEOUT_MS,
  ) {}

  async send(node: string, command: Command): Promise<Ack | null> {
    try {
      const reply = await this.nc.request(subjects.nodeCommand(node), JSON.stringify(command), {
        timeout: this.timeoutMs,
      });
      const ack = AckSchema.safeParse(reply.json());
      return ack.success && ack.data.node === node && ack.data.id === command.id ? ack.data : null;
    } catch {
      return null;
    }
  }

  async record(action: OperatorAction): Promise<void> {
    await jetstream(this.nc).publish(subjects.operatorActions, JSON.stringify(action), {
      expect: { streamName: names.eventsStream },
    });
  }
}

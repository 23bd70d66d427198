import { describe, expect, it } from 'vitest';
import {
  AckSchema,
  CommandSchema,
  ContractInvalidTokenError,
  NodeStatusSchema,
  subjects,
} from '../src/index.js';

describe('subjects', () => {
  it('builds versioned subjects', () => {
    expect(subjects.status('lb-1')).toBe('rhi.v1.status.lb-1');
    expect(subjects.event('lb_2')).toBe('rhi.v1.events.lb_2');
    expect(subjects.nodeCommand('lb-1')).toBe('rhi.v1.cmd.node.lb-1');
    expect(subjects.labelCommand('site', 'par1')).toBe('rhi.v1.cmd.label.site.par1');
  });

  it.each(['lb.1', 'lb*', '>', '', 'a b', 'x'.repeat(65)])('refuses %j as a token', (name) => {
    expect(() => subjects.status(name)).toThrow(ContractInvalidTokenError);
  });
});

describe('schemas', () => {
  const status = {
    schema: 'rhi.v1.status',
    node: 'lb-1',
    labels: { site: 'par1' },
    agentVersion: '0.1.0',
    time: '2026-11-24T05:00:00.000Z',
    seq: 3,
    ruleSet: null,
    haproxy: { reachable: true, pid: 42 },
    bird: { reachable: false, error: 'connect ENOENT /run/bird/bird.ctl' },
    drain: { drained: false },
    routes: [
      {
        table: 'vol1',
        prefix: '198.18.200.1/32',
        family: 'ipv4',
        decision: 'withdraw',
        desired: true,
        damping: 'falling',
        allowed: true,
        reason: 'b:be_app down',
        inBird: null,
        since: '2026-11-24T04:59:59.000Z',
      },
    ],
  };

  it('accepts a status and refuses unknown fields', () => {
    expect(NodeStatusSchema.safeParse(status).success).toBe(true);
    expect(NodeStatusSchema.safeParse({ ...status, extra: 1 }).success).toBe(false);
    expect(NodeStatusSchema.safeParse({ ...status, node: 'lb.1' }).success).toBe(false);
  });

  it('discriminates commands by type', () => {
    expect(
      CommandSchema.parse({
        schema: 'rhi.v1.command',
        id: 'c1',
        type: 'drain',
        waitSessions: 0,
        timeoutSec: 30,
      }),
    ).toMatchObject({ type: 'drain' });
    expect(CommandSchema.safeParse({ schema: 'rhi.v1.command', id: 'c1', type: 'reboot' }).success).toBe(
      false,
    );
    expect(
      AckSchema.safeParse({ schema: 'rhi.v1.ack', id: 'c1', node: 'lb-1', result: 'rejected', reason: 'x' })
        .success,
    ).toBe(true);
  });
});

import { readFileSync } from 'node:fs';
import { checkExampleConfig } from '@rhi/test-support';
import { describe, expect, it } from 'vitest';
import { AgentConfigSchema } from '../src/config/schema.js';

// examples/agent.yaml lists every key of the configuration, each with its true default, kept in step with
// the schema here (as fastify keeps its error table in step with its docs). The markers a key's comment
// may carry (`# required`, `# example (default: X)`) are those of `checkExampleConfig`.

const file = new URL('../../../examples/agent.yaml', import.meta.url);

/** Only what the schema requires: each key's default is what parsing this without the key gives. */
const REQUIRED = {
  node: { name: 'lb-1' },
  haproxy: { sockets: ['/run/haproxy/admin.sock'] },
  bird: { socket: '/run/bird/bird.ctl', include: '/run/rhi/rhi-routes.conf' },
  rules: { file: '/etc/rhi/rules.cfg' },
  allowlist: ['198.18.200.0/24'],
};
/** What an optional section needs besides the key looked at, when a key inside it is looked at. */
const SECTION_NEEDS: Record<string, unknown> = {
  nats: { servers: ['nats://127.0.0.1:4222'], token: 'a-token' },
};

describe('examples/agent.yaml', () => {
  const check = checkExampleConfig(readFileSync(file, 'utf8'), {
    schema: AgentConfigSchema,
    required: REQUIRED,
    sectionNeeds: SECTION_NEEDS,
  });

  it('lists every key of the schema, and no other', () => {
    expect(check.listingProblems()).toEqual([]);
  });

  it('shows each key with its true default, or says it is required or an example', () => {
    expect(check.defaultProblems()).toEqual([]);
  });

  it('gives each key the same default whether its section is absent or written without the key', () => {
    expect(check.sectionDefaultProblems()).toEqual([]);
  });
});

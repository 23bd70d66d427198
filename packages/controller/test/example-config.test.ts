import { readFileSync } from 'node:fs';
import { checkExampleConfig } from '@rhi/test-support';
import { describe, expect, it } from 'vitest';
import { ControllerConfigSchema } from '../src/config/schema.js';

// examples/controller.yaml lists every key of the configuration, each with its true default, kept in step
// with the schema here, as packages/agent/test/example-config.test.ts does for the agent (the same
// markers, those of `checkExampleConfig`).

const file = new URL('../../../examples/controller.yaml', import.meta.url);

/** Only what the schema requires: each key's default is what parsing this without the key gives. */
const REQUIRED = {
  nats: { servers: ['nats://127.0.0.1:4222'], token: 'a-token' },
  api: { tokens: [{ name: 'ops', role: 'viewer', sha256: '0'.repeat(64) }] },
};

describe('examples/controller.yaml', () => {
  const check = checkExampleConfig(readFileSync(file, 'utf8'), {
    schema: ControllerConfigSchema,
    required: REQUIRED,
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

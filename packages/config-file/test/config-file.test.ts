import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigInvalidError,
  MAX_CONFIG_BYTES,
  overrideFromFlag,
  overridesFromEnv,
  parseConfig,
} from '../src/index.js';

const Schema = z.strictObject({
  api: z.strictObject({
    listen: z.string().default('127.0.0.1:9190'),
    port: z.number().int().max(65535).optional(),
  }),
  stateDir: z.string().default('/var/lib/x'),
});

const failure = (fn: () => unknown): ConfigInvalidError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigInvalidError) return err;
    throw err;
  }
  throw new Error('expected a ConfigInvalidError');
};

describe('parseConfig', () => {
  it('gives the schema output, defaults included', () => {
    expect(parseConfig(Schema, 'api: {}\n', 'x.yaml')).toEqual({
      api: { listen: '127.0.0.1:9190' },
      stateDir: '/var/lib/x',
    });
  });

  it('names each bad path with its file:line:column, all at once', () => {
    const err = failure(() => parseConfig(Schema, 'api:\n  port: 70000\n  colour: red\n', 'x.yaml'));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.issues.map((i) => [i.path, i.line])).toEqual([
      ['api.port', 2],
      ['api', 2],
    ]);
    expect(err.message).toMatch(/^x\.yaml: invalid configuration\n {2}x\.yaml:2:9: api\.port: /);
  });

  it('refuses YAML syntax errors, an alias bomb, a file that is not a mapping and one too large', () => {
    expect(failure(() => parseConfig(Schema, 'api: [\n', 'x.yaml')).issues[0]?.line).toBe(2);
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...'bcdefg'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefg'[i]}`).join(', ')}]`),
    ].join('\n');
    expect(failure(() => parseConfig(Schema, bomb, 'x.yaml')).message).toMatch(/alias bomb/);
    expect(failure(() => parseConfig(Schema, '- a\n- b\n', 'x.yaml')).message).toMatch(
      /expected a mapping of sections \(api:, stateDir:, \.\.\.\)/,
    );
    expect(
      failure(() => parseConfig(Schema, `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`, 'x.yaml')).message,
    ).toMatch(/at most/);
  });

  it('applies overrides from the environment first, then flags, and names their source when bad', () => {
    const env = overridesFromEnv(
      { RHI_API__LISTEN: '0.0.0.0:1', RHI_CONFIG: '/etc/x.yaml', RHI_STATE_DIR: '/s' },
      Schema,
    );
    expect(env.map((o) => o.path)).toEqual([['api', 'listen'], ['stateDir']]);
    const config = parseConfig(Schema, 'api: {}\n', 'x.yaml', [...env, overrideFromFlag('api.port=9')]);
    expect(config).toEqual({ api: { listen: '0.0.0.0:1', port: 9 }, stateDir: '/s' });
    expect(failure(() => overrideFromFlag('nonsense')).file).toBe('--set');
    expect(
      failure(() => parseConfig(Schema, 'api: {}\n', 'x.yaml', [overrideFromFlag('api.port=[')])).file,
    ).toBe('--set api.port=[');
  });
});

import { describe, expect, it } from 'vitest';
import { checkBirdConfig, includeTargets } from './check-config.js';

const main = (body: string) => ({ path: '/etc/bird/bird.conf', text: body });
const expected = { includePath: '/etc/bird/rhi-routes.conf', protocols: ['vol1', 'vol1_v6'] };

describe('checkBirdConfig', () => {
  it('accepts the documented operator snippet', () => {
    const result = checkBirdConfig(
      [
        main(`include "rhi-routes.conf";
protocol bgp up1 { ipv4 { export where proto = "vol1"; }; ipv6 { export where proto = "vol1_v6"; }; }`),
      ],
      expected,
    );
    expect(result).toEqual({
      ok: true,
      includesFile: true,
      protocols: [
        { name: 'vol1', exported: true, running: undefined },
        { name: 'vol1_v6', exported: true, running: undefined },
      ],
      problems: [],
    });
  });

  it('finds the include and filters in included files, and accepts a proto ~ pattern', () => {
    const result = checkBirdConfig(
      [
        main('include "/etc/bird/conf.d/rhi.conf";'),
        {
          path: '/etc/bird/conf.d/rhi.conf',
          text: 'include "../rhi-routes.conf";\nfilter rhi { if proto ~ "vol1*" then accept; reject; }',
        },
      ],
      expected,
    );
    expect(result.ok).toBe(true);
  });

  it('reports a missing include, a commented-out include, a missing export and a protocol BIRD does not run', () => {
    const result = checkBirdConfig(
      [main('# include "rhi-routes.conf";\nprotocol ospf { ipv4 { export where proto = "vol1"; }; }')],
      {
        ...expected,
        running: new Set(['vol1']),
      },
    );
    expect(result.ok).toBe(false);
    expect(result.includesFile).toBe(false);
    expect(result.protocols).toEqual([
      { name: 'vol1', exported: true, running: true },
      { name: 'vol1_v6', exported: false, running: false },
    ]);
    expect(result.problems).toEqual([
      { message: expect.stringContaining('no line include') },
      { message: expect.stringContaining('no filter matches protocol vol1_v6'), protocol: 'vol1_v6' },
      { message: expect.stringContaining('BIRD is not running protocol vol1_v6'), protocol: 'vol1_v6' },
    ]);
  });

  it('tells a protocol the agent has not written yet from one BIRD does not run although the include has it', () => {
    const config = main(
      'include "rhi-routes.conf";\nprotocol bgp { ipv4 { export where proto ~ "vol*"; }; }',
    );
    const first = checkBirdConfig([config], { ...expected, running: new Set(), declared: new Set() });
    expect(first.ok).toBe(true);
    expect(first.problems).toEqual([
      expect.objectContaining({
        protocol: 'vol1',
        pending: true,
        message: expect.stringContaining('rhi-agent run writes it'),
      }),
      expect.objectContaining({ protocol: 'vol1_v6', pending: true }),
    ]);
    const stuck = checkBirdConfig([config], { ...expected, running: new Set(), declared: new Set(['vol1']) });
    expect(stuck.ok).toBe(false);
    expect(stuck.problems[0]).toEqual({
      message: expect.stringContaining('BIRD is not running protocol vol1'),
      protocol: 'vol1',
    });
  });

  it('resolves include targets against the including file', () => {
    expect(
      includeTargets(main('include "a.conf";\n  include "/x/b.conf";\n/* include "c.conf"; */')),
    ).toEqual(['/etc/bird/a.conf', '/x/b.conf']);
  });
});

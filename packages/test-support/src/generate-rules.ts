/**
 * A rule set as `generateRules` makes it: the rules file's text, and a health state for its proxies
 * (the shape of rules-dsl's `HealthState`, which this package does not import).
 */
export interface GeneratedRules {
  readonly text: string;
  readonly state: {
    readonly frontends: Record<string, { up: boolean }>;
    readonly backends: Record<string, { up: boolean; serversUp: number; serversTotal: number }>;
  };
}

/**
 * A rules file of `count` rules shaped like a large real deployment (rules-dsl's and the agent's
 * benchmarks and size tests): mostly seed-style all()/any() over two or three of `count / 4` backends,
 * with nesting, not(), capacity thresholds, quorums, attributes, IPv6 and a second table, on VIPs from
 * 198.18.0.0 up; with a health state in which a tenth of the backends are down. With `terms`, every rule
 * is instead an any() of that many backends (37 terms a rule makes 10,000 rules about 3.7 MB).
 */
export function generateRules(count: number, terms?: number): GeneratedRules {
  const backendCount = Math.max(10, Math.floor(count / 4));
  const backends: Record<string, { up: boolean; serversUp: number; serversTotal: number }> = {};
  for (let i = 0; i < backendCount; i++) {
    const down = i % 10 === 3;
    backends[`be_${i}`] = { up: !down, serversUp: down ? 0 : 3 + (i % 4), serversTotal: 6 };
  }
  const frontends: Record<string, { up: boolean }> = {};
  for (let i = 0; i < 100; i++) frontends[`fe_${i}`] = { up: i % 17 !== 5 };
  const be = (k: number) => `b:be_${k % backendCount}`;
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const v4 = `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    const network =
      i % 20 === 7 ? `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64` : v4;
    const target = i % 5 === 0 ? `vol2%${network}` : network;
    if (terms !== undefined) {
      lines.push(`${target} = any(${Array.from({ length: terms - 1 }, (_, k) => be(i + k)).join(', ')})`);
      continue;
    }
    switch (i % 6) {
      case 0:
        lines.push(`${target} = all(${be(i)},${be(i + 1)})`);
        break;
      case 1:
        lines.push(`${target} = any(${be(i)}, ${be(i + 7)}, ${be(i + 13)})`);
        break;
      case 2:
        lines.push(`${target} = all(f:fe_${i % 100}, any(${be(i)}, ${be(i + 3)}), not(${be(i + 5)}))`);
        break;
      case 3:
        lines.push(`${target} = all(f:fe_${i % 100}, ${be(i)}>=3)   # capacity`);
        break;
      case 4:
        lines.push(`${target} = atleast(2, ${be(i)}, ${be(i + 1)}>=50%, ${be(i + 2)})`);
        break;
      default:
        lines.push(`${target} = all(${be(i)}) with med 10, community 65000:${i % 65536}`);
    }
  }
  return { text: `# generated: ${count} rules\n${lines.join('\n')}\n`, state: { frontends, backends } };
}

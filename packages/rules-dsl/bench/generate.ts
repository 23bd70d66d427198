import type { HealthState } from '@rhi/rules-dsl';

/**
 * A rules file of `count` rules shaped like a large real deployment: mostly seed-style all()/any() over
 * two or three backends, with some nesting, thresholds, quorums, IPv6 and a second table; plus a health
 * state in which about a tenth of the backends are down.
 */
export function generateRules(count: number): { text: string; state: HealthState } {
  const lines: string[] = [];
  const backends: Record<string, { up: boolean; serversUp: number; serversTotal: number }> = {};
  const frontends: Record<string, { up: boolean }> = {};
  const backendCount = Math.max(10, Math.floor(count / 4));
  for (let i = 0; i < backendCount; i++) {
    const down = i % 10 === 3;
    backends[`be_${i}`] = { up: !down, serversUp: down ? 0 : 3 + (i % 4), serversTotal: 6 };
  }
  for (let i = 0; i < 100; i++) frontends[`fe_${i}`] = { up: i % 17 !== 5 };
  const be = (k: number) => `b:be_${k % backendCount}`;
  for (let i = 0; i < count; i++) {
    const v4 = `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    const network =
      i % 20 === 7 ? `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64` : v4;
    const target = i % 5 === 0 ? `vol2%${network}` : network;
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

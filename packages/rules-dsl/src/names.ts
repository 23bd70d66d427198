/** Characters HAProxy allows in proxy names (cfgparse `invalid_char`): letters, digits, `-`, `_`, `.`, `:`. */
export const PROXY_NAME = /^[A-Za-z0-9_.:-]+$/;

/** BIRD symbol rules for a route table (it becomes a `protocol static <name>`). BIRD caps symbols at 64 bytes. */
export const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * BIRD 2 keywords and built-in names that cannot name a protocol. A best-effort list of the ones a table
 * name is likely to hit; BIRD's own parser (`configure check`) remains the final judge.
 */
const BIRD_KEYWORDS = new Set(
  `accept add all area as attribute babel bfd bgp bgp_community bgp_large_community bgp_local_pref bgp_med
  bgp_next_hop bgp_origin bgp_path blackhole bool case channel check clist debug define delete dest dev device
  direct disabled drop else empty export false filter flow4 flow6 for from function gateway graceful gw if
  import include int interface ip ipv4 ipv6 kernel keep lc lclist limit local log mpls mrt multipath neighbor net
  no none off on ospf pair password perf pipe prefix preference print printn prohibit proto protocol quad radv
  reject restart return rip roa4 roa6 router rpki scope source static string table template then timeformat to
  true unreachable via vpn4 vpn6 where yes`.split(/\s+/),
);

/** Returns why `name` cannot be a route table, or undefined when it can. */
export function tableNameProblem(name: string): string | undefined {
  if (name === '') return 'route table name is empty';
  if (!TABLE_NAME.test(name)) {
    return name.length > 64
      ? `route table name '${name.slice(0, 20)}...' is longer than BIRD's 64-character limit`
      : `bad route table name '${name}': BIRD names start with a letter or '_' and hold only letters, digits and '_'`;
  }
  if (BIRD_KEYWORDS.has(name.toLowerCase())) return `route table name '${name}' is a BIRD keyword`;
  return undefined;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] ?? 0;
      row[j] = Math.min(cur + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] ?? 0;
}

/** The candidate nearest to `word` (case-insensitive), if it is close enough to be a plausible typo. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = distance(lower, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(lower.length / 3)) + (lower.length > 4 ? 1 : 0)
    ? best
    : undefined;
}

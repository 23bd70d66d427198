/** Characters HAProxy allows in proxy names (cfgparse `invalid_char`): letters, digits, `-`, `_`, `.`, `:`. */
export const PROXY_NAME = /^[A-Za-z0-9_.:-]+$/;

/** BIRD symbol rules for a route table (it becomes a `protocol static <name>`). BIRD caps symbols at 64 bytes. */
export const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Words BIRD 2.0.12 refuses as a protocol name (its keywords and built-in symbols such as `master4`),
 * captured from the real daemon by scripts/capture-bird-keywords.sh. BIRD keywords are case-sensitive.
 * Newer BIRD versions may add keywords; BIRD's own parser (`configure check`) remains the final judge.
 */
const BIRD_KEYWORDS = new Set(
  `accept action add address administrative advertise after algorithm all allow always area as as4 asn
  attribute attributes auth authentication autonomous aware babel babel_metric base bcast bfd bgp
  bgp_aggregator bgp_aigp bgp_atomic_aggr bgp_cluster_list bgp_community bgp_ext_community
  bgp_large_community bgp_local_pref bgp_med bgp_next_hop bgp_origin bgp_originator_id bgp_otc bgp_path
  bgpmask bgppath bind bird blackhole blake2b256 blake2b512 blake2s128 blake2s256 block bool broadcast
  bt_assert bt_check_assign bt_test_same bt_test_suite buffer bug by capabilities case cease change channels
  check circuit class client clist cluster code collision commands communities confederation config
  configuration configure confirm connect connection contains cost cost2 count cryptographic current data
  data1 data2 dead debug deconfigured default define defined delay delete demand description dest
  deterministic dev device digits direct disable disabled do domain dont_fragment down dport drop dscp dst
  dump dynamic ebgp ec echo eclist ecmp else empty enable enforce entries error events exit exp expire
  export exported extended external false fatal filename filter filtered filters first first_fragment flags
  flow4 flow6 flush for forget fragment free from function garbage gateway gc generate generic global
  graceful gw gw_mpls header hello help hidden high hit hmac hold hop horizon hostname ibgp icmp id idle if
  ifindex ifname ignore igp_metric import in infinity info instance int interface interfaces internal
  interpret interval ip ipv4 ipv4_mc ipv4_mpls ipv6 ipv6_mc ipv6_mpls ipv6_sadr is_fragment is_v4 is_v6 iso
  keep keepalive kernel key keyed krt_advmss krt_cwnd krt_feature_allfrag krt_feature_ecn krt_hoplimit
  krt_initcwnd krt_initrwnd krt_lock_advmss krt_lock_cwnd krt_lock_hoplimit krt_lock_mtu krt_lock_reordering
  krt_lock_rto_min krt_lock_rtt krt_lock_rttvar krt_lock_sstresh krt_lock_window krt_metric krt_mtu
  krt_prefsrc krt_quickack krt_realm krt_reordering krt_rto_min krt_rtt krt_rttvar krt_scope krt_source
  krt_sstresh krt_window label large last last_fragment last_nonaggregated latency lc lclist learn len
  length lifetime limit linger link lived lladdr local log long low lsa lsadb lsid managed mandatory mask
  master4 master6 match max maxlen md5 medium member memory merge messages meticulous metric missing mode
  mpls mrt mrtdump ms mtu mult multicast multihop multiplier name nbma neighbor neighbors net netlink
  netmask networks next ng no noexport nonbroadcast none normal nssa of off offset older on onlink only
  originate ospf ospf_metric1 ospf_metric2 ospf_router_id ospf_tag other out packets pair passive password
  passwords path paths perf period permissive persist pipe plaintext pointomultipoint pointopoint poison
  poll port preexport prefer preference preferred prefix prepend pri primary print printn priority private
  prohibit propagate proto protocol protocols ptmp ptp public quad quit ra ra_lifetime ra_preference radv
  randomize range rd reachable real receive recursive refresh reject rejected reload remote repeat require
  reset resources restart restrict retrans retransmit retry return reverse rfc1583compat rfc5838 rip
  rip_metric rip_tag ro roa4 roa6 roa_check roles route router routes rpki rs rt rx rxcost sadr scan scope
  sec secondary security self sensitive sessions set setkey sets settle sha1 sha256 sha384 sha512 short show
  shutdown simple skip sockets soft solicited sorted source split src ssh stability stale start startup
  state states static stats status stderr strict string stub stubnet summary suppression symbols syslog
  table tag tcp template then threshold tick time timeformat timeout timer to topology trace translator
  transmit transport trie trigger true ttl tx type undo unicast unknown unreachable unset update us user v2
  v3 valid validate version via virtual vpn vpn4 vpn4_mc vpn4_mpls vpn6 vpn6_mc vpn6_mpls vrf wait warn
  warning watchdog weight where wired wireless yes zero`.split(/\s+/),
);

/** Returns why `name` cannot be a route table, or undefined when it can. */
export function tableNameProblem(name: string): string | undefined {
  if (name === '') return 'route table name is empty';
  if (!TABLE_NAME.test(name)) {
    return name.length > 64
      ? `route table name '${name.slice(0, 20)}...' is longer than BIRD's 64-character limit`
      : `bad route table name '${name}': BIRD names start with a letter or '_' and hold only letters, digits and '_'`;
  }
  if (BIRD_KEYWORDS.has(name)) return `route table name '${name}' is a BIRD keyword`;
  return undefined;
}

/** Edit distance counting a swap of two neighbouring letters as one edit (optimal string alignment). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      row[j] = best;
    }
  }
  return at(a.length, b.length);
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

import { prefixContains } from '@rhi/rules-dsl';

/** A node's prefix allowlist: the only networks it may ever advertise, whatever a rule set says. */
export interface Allowlist {
  /** True when `prefix` lies inside one of the allowed networks. */
  readonly allows: (prefix: string) => boolean;
  readonly networks: readonly string[];
}

/** Builds an allowlist from canonical CIDRs (validated by the config schema). */
export function allowlist(networks: readonly string[]): Allowlist {
  return { networks, allows: (prefix) => networks.some((n) => prefixContains(n, prefix)) };
}

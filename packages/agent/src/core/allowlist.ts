import { prefixContains } from '@rhi/rules-dsl';

/** A node's prefix allowlist: the only networks it may ever advertise, whatever a rule set says. */
export interface Allowlist {
  /** True when `prefix` lies inside one of the allowed networks. */
  readonly allows: (prefix: string) => boolean;
  readonly networks: readonly string[];
}

/** Answers kept per prefix; past this many (rule sets come and go) the memory starts again. */
const REMEMBERED = 100_000;

/** Builds an allowlist from canonical CIDRs (validated by the config schema). */
export function allowlist(networks: readonly string[]): Allowlist {
  const known = new Map<string, boolean>();
  return {
    networks,
    allows: (prefix) => {
      let allowed = known.get(prefix);
      if (allowed === undefined) {
        allowed = networks.some((n) => prefixContains(n, prefix));
        if (known.size >= REMEMBERED) known.clear();
        known.set(prefix, allowed);
      }
      return allowed;
    },
  };
}

/** Address family of a route. */
export type Family = 'ipv4' | 'ipv6';

/** Minimum capacity a backend must have for a `b:name>=N` or `b:name>=N%` term to hold. */
export type Threshold =
  { readonly kind: 'count'; readonly value: number } | { readonly kind: 'percent'; readonly value: number };

/** A reference to a HAProxy proxy: `b:<name>` (backend) or `f:<name>` (frontend), optionally with a capacity threshold. */
export interface ProxyTerm {
  readonly type: 'proxy';
  readonly side: 'backend' | 'frontend';
  readonly name: string;
  readonly threshold?: Threshold;
}

/** `all(...)`: every argument holds. `any(...)`: at least one holds. */
export interface ListTerm {
  readonly type: 'all' | 'any';
  readonly args: readonly Expr[];
}

/** `not(<expr>)`. */
export interface NotTerm {
  readonly type: 'not';
  readonly arg: Expr;
}

/** `atleast(<n>, <expr>, ...)`: at least `n` of the arguments hold. */
export interface QuorumTerm {
  readonly type: 'atleast';
  readonly n: number;
  readonly args: readonly Expr[];
}

/** `true` / `false` (seed aggregators for debugging). */
export interface ConstTerm {
  readonly type: 'const';
  readonly value: boolean;
}

/** A rule's condition. */
export type Expr = ProxyTerm | ListTerm | NotTerm | QuorumTerm | ConstTerm;

/** A route a rule advertises: a BIRD route table (`vol1` by default) and a canonical CIDR prefix. */
export interface Route {
  readonly table: string;
  /** Canonical CIDR text, always with its mask: `198.18.200.1/32`, `2001:db8::/64`. */
  readonly prefix: string;
  readonly family: Family;
}

/** Per-route BGP attributes, from the `with ...` clause (an rhi extension). */
export interface RouteAttributes {
  readonly med?: number;
  readonly localPref?: number;
  /** Standard communities as `[asn, value]`, in source order. */
  readonly communities?: readonly (readonly [number, number])[];
  /** Large communities as `[global, local1, local2]`, in source order. */
  readonly largeCommunities?: readonly (readonly [number, number, number])[];
}

/** One line of the rules file: the routes it controls and the condition that advertises them. */
export interface Rule {
  readonly routes: readonly Route[];
  readonly expr: Expr;
  readonly attributes?: RouteAttributes;
}

/** A compiled rule set: position-free, so that it can travel over the wire and be hashed. */
export interface RuleSet {
  readonly version: 1;
  readonly rules: readonly Rule[];
}

/** The default route table, as in HAProxy Enterprise's RHI (`vol1`). */
export const DEFAULT_TABLE = 'vol1';

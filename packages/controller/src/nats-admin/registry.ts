import { TOKEN, agentPermissions, controllerPermissions, type NatsPermissions } from '@rhi/contracts';
import { z } from 'zod';

const publicKey = z.string().regex(/^U[A-Z2-7]{55}$/, 'an nkey user public key (U...)');
const labelToken = z.string().regex(TOKEN);

/**
 * What `rhi-controller nats` keeps in its directory (`registry.json`): the public keys of the controller,
 * the system user and every node, with the labels each node's permissions name. Seeds are never in it.
 */
export const NatsRegistrySchema = z.strictObject({
  schema: z.literal('rhi.v1.nats-registry'),
  /** The account everything of rhi lives in (JetStream on). */
  account: z.string().regex(/^[A-Z][A-Z0-9_]{0,31}$/),
  system: z.strictObject({ publicKey }),
  controller: z.strictObject({ publicKey }),
  nodes: z.record(
    z.string().regex(TOKEN, 'a node name is 1-64 letters, digits, - or _'),
    z.strictObject({ publicKey, labels: z.record(labelToken, labelToken), addedAt: z.iso.datetime() }),
  ),
});
export type NatsRegistry = z.infer<typeof NatsRegistrySchema>;

/** A node named twice, or a node that is not there. */
export class NatsRegistryError extends Error {
  constructor(
    readonly code: 'NATS_NODE_EXISTS' | 'NATS_NODE_UNKNOWN' | 'NATS_NODE_INVALID',
    message: string,
  ) {
    super(message);
    this.name = 'NatsRegistryError';
  }
}

/** Throws {@link NatsRegistryError} when `node` has credentials already, or is not a node name. Pure. */
export function assertNewNode(r: NatsRegistry, node: string): void {
  if (!TOKEN.test(node))
    throw new NatsRegistryError(
      'NATS_NODE_INVALID',
      `'${node}' is not a node name: 1-64 letters, digits, - or _`,
    );
  if (Object.hasOwn(r.nodes, node))
    throw new NatsRegistryError(
      'NATS_NODE_EXISTS',
      `node ${node} has credentials already: remove-node it first`,
    );
}

/** The registry with `node` added. Throws {@link NatsRegistryError} as {@link assertNewNode}. Pure. */
export function withNode(r: NatsRegistry, node: string, entry: NatsRegistry['nodes'][string]): NatsRegistry {
  assertNewNode(r, node);
  return { ...r, nodes: { ...r.nodes, [node]: entry } };
}

/** The registry without `node`. Throws {@link NatsRegistryError} when it is not there. Pure. */
export function withoutNode(r: NatsRegistry, node: string): NatsRegistry {
  if (!Object.hasOwn(r.nodes, node))
    throw new NatsRegistryError('NATS_NODE_UNKNOWN', `node ${node} has no credentials here`);
  const nodes = { ...r.nodes };
  delete nodes[node];
  return { ...r, nodes };
}

const quote = (s: string) => JSON.stringify(s);

function permissionsBlock(p: NatsPermissions, indent: string): string {
  const list = (xs: readonly string[]) => `[${xs.map(quote).join(', ')}]`;
  return [
    `${indent}permissions: {`,
    `${indent}  publish: { allow: ${list(p.publish.allow)} }`,
    `${indent}  subscribe: { allow: ${list(p.subscribe.allow)} }`,
    ...(p.allowResponses ? [`${indent}  allow_responses: true`] : []),
    `${indent}}`,
  ].join('\n');
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The server's authorization, to `include` in nats-server's config: every user inside `accounts {}`, the
 * system user in its own account named by `system_account`, and no top-level `authorization {}` (beside
 * `accounts {}` that shape lets unauthenticated clients in on 2.9.10: CVE-2023-47090). Each node's user
 * has exactly the contract's `agentPermissions`. Pure: the same registry gives the same bytes.
 */
export function renderAuthConfig(r: NatsRegistry): string {
  const user = (comment: string, key: string, p: NatsPermissions) =>
    [
      `      # ${comment}`,
      `      {`,
      `        nkey: ${quote(key)}`,
      permissionsBlock(p, '        '),
      `      }`,
    ].join('\n');
  const nodes = Object.entries(r.nodes).sort(([a], [b]) => byName(a, b));
  return [
    '# Written by rhi-controller nats (init, add-node, remove-node): edits here are lost.',
    '# Every user is inside accounts {}: never put an authorization {} block beside it (CVE-2023-47090).',
    'accounts {',
    `  ${r.account}: {`,
    '    jetstream: enabled',
    '    users: [',
    user('the controller', r.controller.publicKey, controllerPermissions()),
    ...nodes.map(([name, n]) => {
      const labels = Object.entries(n.labels)
        .sort(([a], [b]) => byName(a, b))
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      return user(
        `node ${name}${labels ? ` (${labels})` : ''}`,
        n.publicKey,
        agentPermissions(name, n.labels),
      );
    }),
    '    ]',
    '  }',
    '  SYS: {',
    `    users: [ { nkey: ${quote(r.system.publicKey)} } ]`,
    '  }',
    '}',
    'system_account: SYS',
    '',
  ].join('\n');
}

/** One server of a cluster: its name, the address clients dial, the address its peers route to. */
export interface ClusterMember {
  readonly name: string;
  readonly client: string;
  readonly route: string;
}

/** The routes and their TLS a cluster member's config holds. */
export interface ClusterOptions {
  readonly name: string;
  readonly members: readonly ClusterMember[];
  /** This member's index in `members`. */
  readonly self: number;
  /** Route TLS (mutual: each server presents `tls/server.pem` and verifies its peers against the CA). */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string };
}

/**
 * A server config to start from: listen, JetStream with explicit limits (without them JetStream claims
 * about 75% of the machine's memory and disk), the authorization included, TLS for clients included, and
 * for a cluster member its name, routes to every member and route TLS. Pure.
 */
export function renderServerConfig(options: {
  readonly listen: string;
  readonly storeDir: string;
  readonly maxFileStore: string;
  readonly maxMemoryStore: string;
  /** Include `tls.conf` (written by `rhi-controller nats tls`): clients must then speak TLS. */
  readonly tls?: boolean;
  readonly cluster?: ClusterOptions;
}): string {
  const c = options.cluster;
  const self = c ? c.members[c.self] : undefined;
  if (c && !self) throw new RangeError(`cluster member ${c.self} is not one of ${c.members.length}`);
  const clusterBlock =
    c && self
      ? [
          '# The cluster: routes to every member (its own is ignored), mutual TLS when made with --tls-hosts.',
          'cluster {',
          `  name: ${quote(c.name)}`,
          `  listen: ${quote(self.route)}`,
          `  routes: [${c.members.map((m) => quote(`${c.tls ? 'tls' : 'nats'}://${m.route}`)).join(', ')}]`,
          ...(c.tls
            ? [
                '  tls {',
                `    cert_file: ${quote(c.tls.cert)}`,
                `    key_file: ${quote(c.tls.key)}`,
                `    ca_file: ${quote(c.tls.ca)}`,
                '    verify: true',
                '    timeout: 2',
                '  }',
              ]
            : []),
          '}',
        ]
      : [];
  return [
    '# A nats-server config for rhi, written by rhi-controller nats init (edit freely; it is not rewritten).',
    ...(self ? [`server_name: ${quote(self.name)}`] : []),
    `listen: ${quote(options.listen)}`,
    'jetstream {',
    `  store_dir: ${quote(options.storeDir)}`,
    `  max_file_store: ${options.maxFileStore}`,
    `  max_memory_store: ${options.maxMemoryStore}`,
    '}',
    ...clusterBlock,
    '# Users and their permissions: rewritten by rhi-controller nats add-node / remove-node.',
    'include auth.conf',
    ...(options.tls
      ? ['# TLS for client connections: written by rhi-controller nats tls.', 'include tls.conf']
      : []),
    '',
  ].join('\n');
}

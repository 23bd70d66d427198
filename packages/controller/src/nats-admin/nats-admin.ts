import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { createUser } from '@nats-io/nkeys';
import {
  assertNewNode,
  NatsRegistrySchema,
  renderAuthConfig,
  renderServerConfig,
  withNode,
  withoutNode,
  type ClusterMember,
  type NatsRegistry,
} from './registry.js';
import { natsTls, tlsFiles } from './tls.js';

/** The files of a `rhi-controller nats` directory. */
export const natsFiles = {
  registry: 'registry.json',
  auth: 'auth.conf',
  server: 'nats-server.conf',
  /** A cluster member's config, beside `auth.conf` and `tls.conf` that it includes. */
  clusterServer: (name: string) => `nats-server.${name}.conf`,
  controllerSeed: 'controller.nk',
  systemSeed: 'system.nk',
  nodeSeed: (node: string) => join('nodes', `${node}.nk`),
} as const;

/** The directory holds no registry, one that cannot be read, or one already. */
export class NatsAdminError extends Error {
  constructor(
    readonly code: 'NATS_NOT_INITIALIZED' | 'NATS_ALREADY_INITIALIZED' | 'NATS_REGISTRY_UNREADABLE',
    message: string,
  ) {
    super(message);
    this.name = 'NatsAdminError';
  }
}

/** Writes `text` to `path` whole or not at all (a temp file renamed over it). */
async function writeWhole(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${randomUUID().slice(0, 8)}.tmp`;
  await writeFile(tmp, text, { mode, flag: 'wx' });
  await rename(tmp, path);
}

/** A new user key pair: its public key, and its seed written to `path` (0600, never overwritten). */
async function mintUser(path: string): Promise<string> {
  const kp = createUser();
  await writeFile(path, `${new TextDecoder().decode(kp.getSeed())}\n`, { mode: 0o600, flag: 'wx' });
  return kp.getPublicKey();
}

async function readRegistry(dir: string): Promise<NatsRegistry> {
  const path = join(dir, natsFiles.registry);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new NatsAdminError(
        'NATS_NOT_INITIALIZED',
        `${dir} holds no ${natsFiles.registry}: run rhi-controller nats init --dir ${dir} first`,
      );
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new NatsAdminError('NATS_REGISTRY_UNREADABLE', `${path}: not JSON: ${(err as Error).message}`);
  }
  const parsed = NatsRegistrySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new NatsAdminError(
      'NATS_REGISTRY_UNREADABLE',
      `${path}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/** Writes the registry, then the authorization derived from it (a reload reads both as they are). */
async function save(dir: string, r: NatsRegistry): Promise<void> {
  await writeWhole(join(dir, natsFiles.registry), `${JSON.stringify(r, null, 2)}\n`, 0o600);
  await writeWhole(join(dir, natsFiles.auth), renderAuthConfig(r), 0o640);
}

/** What `init` writes a server config with. */
export interface NatsInitOptions {
  readonly listen: string;
  readonly storeDir: string;
  readonly maxFileStore?: string;
  readonly maxMemoryStore?: string;
  /** Hosts (names, addresses) the servers are reached by: a CA and a server certificate are made for them. */
  readonly tlsHosts?: readonly string[];
  /**
   * The servers of a cluster (three in production, on three hosts): one config per member instead of
   * `nats-server.conf`, each with its routes to all, and its own store under `storeDir/<name>`.
   */
  readonly cluster?: readonly ClusterMember[];
}

/**
 * `rhi-controller nats init`: a directory with the registry, the system user's and the controller's
 * seeds (0600), the authorization (`auth.conf`) and, unless one is there, a server config including it.
 * Refuses a directory that holds a registry already. Returns the files written.
 */
export async function natsInit(dir: string, options: NatsInitOptions): Promise<string[]> {
  await mkdir(join(dir, 'nodes'), { recursive: true, mode: 0o700 });
  try {
    await readFile(join(dir, natsFiles.registry));
    throw new NatsAdminError(
      'NATS_ALREADY_INITIALIZED',
      `${dir} holds a registry already: add-node and remove-node change it`,
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const registry: NatsRegistry = {
    schema: 'rhi.v1.nats-registry',
    account: 'RHI',
    system: { publicKey: await mintUser(join(dir, natsFiles.systemSeed)) },
    controller: { publicKey: await mintUser(join(dir, natsFiles.controllerSeed)) },
    nodes: {},
  };
  await save(dir, registry);
  const written: string[] = [
    natsFiles.systemSeed,
    natsFiles.controllerSeed,
    natsFiles.registry,
    natsFiles.auth,
  ];
  const tls = options.tlsHosts !== undefined && options.tlsHosts.length > 0;
  if (tls) for (const f of await natsTls(dir, options.tlsHosts!)) written.push(relative(dir, f));
  const limits = {
    maxFileStore: options.maxFileStore ?? '10G',
    maxMemoryStore: options.maxMemoryStore ?? '1G',
  };
  const configs: [string, string][] = options.cluster
    ? options.cluster.map((m, self) => [
        natsFiles.clusterServer(m.name),
        renderServerConfig({
          listen: m.client,
          storeDir: join(options.storeDir, m.name),
          ...limits,
          tls,
          cluster: {
            name: 'rhi',
            members: options.cluster!,
            self,
            ...(tls
              ? {
                  tls: {
                    cert: join(resolve(dir), tlsFiles.server),
                    key: join(resolve(dir), tlsFiles.serverKey),
                    ca: join(resolve(dir), tlsFiles.ca),
                  },
                }
              : {}),
          },
        }),
      ])
    : [
        [
          natsFiles.server,
          renderServerConfig({ listen: options.listen, storeDir: options.storeDir, ...limits, tls }),
        ],
      ];
  for (const [file, text] of configs)
    try {
      await writeFile(join(dir, file), text, { mode: 0o640, flag: 'wx' });
      written.push(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  return written.map((f) => join(dir, f));
}

/** `rhi-controller nats add-node`: a node's user with its permissions; its seed file's path. */
export async function natsAddNode(
  dir: string,
  node: string,
  labels: Readonly<Record<string, string>>,
  now = new Date(),
): Promise<string> {
  const registry = await readRegistry(dir);
  assertNewNode(registry, node);
  const seed = join(dir, natsFiles.nodeSeed(node));
  await rm(seed, { force: true });
  const publicKey = await mintUser(seed);
  await save(dir, withNode(registry, node, { publicKey, labels: { ...labels }, addedAt: now.toISOString() }));
  return seed;
}

/** `rhi-controller nats remove-node`: the node's user gone (at the server's next reload), its seed deleted. */
export async function natsRemoveNode(dir: string, node: string): Promise<void> {
  const registry = await readRegistry(dir);
  await save(dir, withoutNode(registry, node));
  await rm(join(dir, natsFiles.nodeSeed(node)), { force: true });
}

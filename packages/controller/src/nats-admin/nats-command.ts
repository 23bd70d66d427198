import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { natsAddNode, natsFiles, natsInit, natsRemoveNode } from './nats-admin.js';
import type { ClusterMember } from './registry.js';
import { natsTls, tlsFiles } from './tls.js';

/** The options `rhi-controller nats` reads. */
export interface NatsCommandOptions {
  readonly dir?: string | undefined;
  readonly labels?: string | undefined;
  readonly listen?: string | undefined;
  readonly 'store-dir'?: string | undefined;
  /** Hosts the servers are reached by, comma-separated: TLS for them (init, tls). */
  readonly 'tls-hosts'?: string | undefined;
  /** init: the servers of a cluster, `NAME=CLIENT_HOST:PORT/ROUTE_HOST:PORT` joined by commas. */
  readonly cluster?: string | undefined;
  /** Send SIGHUP to this nats-server (a pid, or a pid file) once the authorization is written. */
  readonly reload?: string | undefined;
}

/** A `rhi-controller nats` command line that cannot be run. */
export class NatsCommandUsageError extends Error {}

function labelsOf(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === undefined || text.trim() === '') return out;
  for (const pair of text.split(',')) {
    const m = /^\s*([A-Za-z0-9_-]{1,64})=([A-Za-z0-9_-]{1,64})\s*$/.exec(pair);
    if (!m)
      throw new NatsCommandUsageError(
        `--labels takes key=value pairs joined by commas (site=par1,role=edge), not '${pair}'`,
      );
    if (Object.hasOwn(out, m[1]!)) throw new NatsCommandUsageError(`--labels names ${m[1]} twice`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

function hostsOf(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const hosts = text
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  return hosts.length ? hosts : undefined;
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** `--cluster n1=10.0.0.1:4222/10.0.0.1:6222,...`: the members, each named once, on distinct addresses. */
export function clusterOf(text: string | undefined): ClusterMember[] | undefined {
  if (text === undefined) return undefined;
  const members: ClusterMember[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    const m = /^([A-Za-z0-9_-]{1,64})=([^/\s]+)\/([^/\s]+)$/.exec(part);
    if (!m)
      throw new NatsCommandUsageError(
        `--cluster takes NAME=CLIENT_HOST:PORT/ROUTE_HOST:PORT joined by commas (n1=10.0.0.1:4222/10.0.0.1:6222), not '${part}'`,
      );
    const [, name, client, route] = m as unknown as [string, string, string, string];
    for (const [what, a] of [
      ['client', client],
      ['route', route],
    ] as const) {
      const hp = HOST_PORT.exec(a);
      if (!hp || Number(hp[2]) < 1 || Number(hp[2]) > 65535)
        throw new NatsCommandUsageError(`--cluster: ${name}'s ${what} address '${a}' is not HOST:PORT`);
    }
    if (members.some((x) => x.name === name))
      throw new NatsCommandUsageError(`--cluster names ${name} twice`);
    const taken = members.flatMap((x) => [x.client, x.route]);
    for (const a of [client, route])
      if (taken.includes(a) || (a === route && a === client))
        throw new NatsCommandUsageError(`--cluster: ${a} is given to two listeners`);
    members.push({ name, client, route });
  }
  if (members.length < 3)
    throw new NatsCommandUsageError(
      `--cluster needs at least 3 servers (R3 streams keep their quorum with one down), not ${members.length}`,
    );
  return members;
}

async function reload(target: string | undefined, out: (s: string) => void): Promise<void> {
  if (target === undefined) {
    out('reload nats-server to apply it (no restart): nats-server --signal reload, or kill -HUP <its pid>\n');
    return;
  }
  const text = /^\d+$/.test(target) ? target : (await readFile(target, 'utf8')).trim();
  const pid = Number(text);
  if (!Number.isInteger(pid) || pid <= 1)
    throw new NatsCommandUsageError(`--reload: '${text}' is not a process id`);
  process.kill(pid, 'SIGHUP');
  out(`sent SIGHUP to nats-server (pid ${pid}): it reloads the authorization\n`);
}

/**
 * `rhi-controller nats init|add-node|remove-node`: the NATS users and permissions of a fleet (nkeys,
 * one per node, permissions from `@rhi/contracts`), kept in a directory; resolves with the exit status.
 */
export async function natsCommand(
  args: readonly string[],
  o: NatsCommandOptions,
  out: (s: string) => void,
): Promise<number> {
  const [sub, name, ...more] = args;
  const dir = o.dir;
  if (!dir)
    throw new NatsCommandUsageError('nats needs --dir DIR: where the registry, seeds and auth.conf live');
  switch (sub) {
    case 'init': {
      if (name !== undefined)
        throw new NatsCommandUsageError(
          'usage: rhi-controller nats init --dir DIR [--listen H:P | --cluster N=H:P/H:P,...] [--store-dir D] [--tls-hosts H1,H2]',
        );
      if (o.cluster !== undefined && o.listen !== undefined)
        throw new NatsCommandUsageError(
          '--listen and --cluster do not go together: --cluster names every listener',
        );
      const tlsHosts = hostsOf(o['tls-hosts']);
      const cluster = clusterOf(o.cluster);
      const written = await natsInit(dir, {
        listen: o.listen ?? '127.0.0.1:4222',
        storeDir: o['store-dir'] ?? join(dir, 'jetstream'),
        ...(tlsHosts ? { tlsHosts } : {}),
        ...(cluster ? { cluster } : {}),
      });
      out(`wrote ${written.join(', ')}\n`);
      out(`the controller's seed is ${join(dir, natsFiles.controllerSeed)}: its config's nats.nkeyFile\n`);
      if (tlsHosts)
        out(
          `clients speak TLS: give them nats.servers tls://HOST:PORT and nats.tls.ca ${join(dir, tlsFiles.ca)}\n`,
        );
      if (cluster) {
        for (const m of cluster)
          out(`start ${m.name} with: nats-server -c ${join(dir, natsFiles.clusterServer(m.name))}\n`);
        out(
          `give the controller and agents every server: nats.servers ${cluster.map((m) => `${tlsHosts ? 'tls' : 'nats'}://${m.client}`).join(',')}; the controller nats.replicas 3\n`,
        );
      } else out(`start the server with: nats-server -c ${join(dir, natsFiles.server)}\n`);
      return 0;
    }
    case 'tls': {
      const hosts = hostsOf(o['tls-hosts']);
      if (name !== undefined || !hosts)
        throw new NatsCommandUsageError(
          'usage: rhi-controller nats tls --dir DIR --tls-hosts H1,H2 [--reload PID|PIDFILE]',
        );
      const written = await natsTls(dir, hosts);
      out(`wrote ${written.join(', ')}\n`);
      out(
        `include ${tlsFiles.conf} in the server config (init --tls-hosts does); clients trust ${join(dir, tlsFiles.ca)}\n`,
      );
      await reload(o.reload, out);
      return 0;
    }
    case 'add-node': {
      if (name === undefined || more.length)
        throw new NatsCommandUsageError(
          'usage: rhi-controller nats add-node NAME --dir DIR [--labels k=v,...] [--reload PID|PIDFILE]',
        );
      const seed = await natsAddNode(dir, name, labelsOf(o.labels));
      out(
        `wrote ${seed} (mode 0600): copy it to ${name} as its agent's nats.nkeyFile; ${join(dir, natsFiles.auth)} updated\n`,
      );
      await reload(o.reload, out);
      return 0;
    }
    case 'remove-node': {
      if (name === undefined || more.length)
        throw new NatsCommandUsageError(
          'usage: rhi-controller nats remove-node NAME --dir DIR [--reload PID|PIDFILE]',
        );
      await natsRemoveNode(dir, name);
      out(`removed ${name}'s user from ${join(dir, natsFiles.auth)} and deleted its seed\n`);
      await reload(o.reload, out);
      return 0;
    }
    default:
      throw new NatsCommandUsageError(`nats takes init, add-node, remove-node or tls, not '${sub ?? ''}'`);
  }
}

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Two network namespaces joined by a veth link, as a node and its upstream router are. */
export interface NetnsLink {
  /** The namespaces' names (`ip netns exec <name> ...`). */
  readonly node: string;
  readonly router: string;
  /** The link's interface in each namespace. */
  readonly nodeDevice: string;
  readonly routerDevice: string;
  /** Runs a command in a namespace. */
  exec(ns: string, command: string, args: readonly string[]): Promise<string>;
  /** Removes both namespaces (and with them the link). */
  remove(): Promise<void>;
}

async function ip(args: readonly string[]): Promise<void> {
  try {
    await run('ip', [...args]);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`ip ${args.join(' ')}: ${stderr.trim() || (err as Error).message}`, { cause: err });
  }
}

/**
 * Creates namespaces `rhi-<tag>-n-<id>` and `rhi-<tag>-r-<id>` with a veth link between them carrying
 * the given addresses (CIDR; IPv6 without duplicate address detection, so they can be bound at once) and
 * loopback up. Needs root (the tests run as root); the caller removes them.
 */
export async function startNetnsLink(options: {
  readonly tag: string;
  readonly nodeAddresses: readonly string[];
  readonly routerAddresses: readonly string[];
}): Promise<NetnsLink> {
  const id = randomBytes(3).toString('hex');
  const node = `rhi-${options.tag}-n-${id}`;
  const router = `rhi-${options.tag}-r-${id}`;
  const link = { node: `rn${id}`, router: `rr${id}` };
  const remove = async () => {
    await Promise.allSettled([ip(['netns', 'del', node]), ip(['netns', 'del', router])]);
  };
  try {
    await ip(['netns', 'add', node]);
    await ip(['netns', 'add', router]);
    await ip([
      'link',
      'add',
      link.node,
      'netns',
      node,
      'type',
      'veth',
      'peer',
      'name',
      link.router,
      'netns',
      router,
    ]);
    for (const [ns, dev, addresses] of [
      [node, link.node, options.nodeAddresses],
      [router, link.router, options.routerAddresses],
    ] as const) {
      for (const address of addresses)
        await ip(['-n', ns, 'addr', 'add', address, 'dev', dev, ...(address.includes(':') ? ['nodad'] : [])]);
      await ip(['-n', ns, 'link', 'set', dev, 'up']);
      await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
  } catch (err) {
    await remove();
    throw err;
  }
  return {
    node,
    router,
    nodeDevice: link.node,
    routerDevice: link.router,
    exec: async (ns, command, args) => (await run('ip', ['netns', 'exec', ns, command, ...args])).stdout,
    remove,
  };
}

import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AdminSocketInUseError,
  AdminSocketSetupError,
  listenControlSocket,
  resolveGroup,
} from '../admin/control-socket.js';
import type { AdminSources } from '../admin/server.js';
import { createAdminServer, listen, parseListen } from '../admin/server.js';
import type { AgentConfig } from '../config/schema.js';

/** What stops `run` before it starts. */
export type PreflightCode =
  | 'TRUSTED_KEY_UNREADABLE'
  | 'TRUSTED_KEY_INVALID'
  | 'NATS_FILE_UNREADABLE'
  | 'ADMIN_LISTEN_FAILED'
  | 'ADMIN_SOCKET_IN_USE'
  | 'ADMIN_SOCKET_FAILED';

/**
 * One thing `run` cannot start with, named by its configuration path (`rules.trustedKeys.ops-2026`,
 * `admin.listen`). `rhi-agent check` prints `${path}: ${message}` as a failure, `run` the same line
 * before it exits with status 2.
 */
export interface PreflightProblem {
  readonly code: PreflightCode;
  readonly path: string;
  readonly message: string;
}

/** `${path}: ${message}`, the line both `check` and `run` print. */
export const problemLine = (p: PreflightProblem): string => `${p.path}: ${p.message}`;

/** `run` cannot start; `problems` says why, each with the configuration path to fix. */
export class PreflightFailedError extends Error {
  readonly code = 'PREFLIGHT_FAILED';
  constructor(
    readonly problems: readonly PreflightProblem[],
    options?: { cause?: unknown },
  ) {
    super(`cannot start:\n${problems.map((p) => `  ${problemLine(p)}`).join('\n')}`, options);
    this.name = 'PreflightFailedError';
  }
}

/** The files the configuration names that `run` reads once, at start. */
export interface RunFiles {
  readonly trustedKeys: ReadonlyMap<string, KeyObject>;
  readonly credentials?: Uint8Array;
  /** The nkey seed of `nats.nkeyFile`. */
  readonly nkeySeed?: Uint8Array;
}

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** Why a file could not be read, in words. Pure. */
export function unreadable(file: string, err: unknown): string {
  switch (errno(err)) {
    case 'ENOENT':
      return `cannot read ${file}: no such file`;
    case 'EACCES':
      return `cannot read ${file}: permission denied`;
    case 'EISDIR':
      return `cannot read ${file}: it is a directory`;
    default:
      return `cannot read ${file}: ${errno(err) ?? (err instanceof Error ? err.message : String(err))}`;
  }
}

/** The public key in `pem`, or why it is not an ed25519 one. Pure. */
export function ed25519Key(file: string, pem: string): { key: KeyObject } | { problem: string } {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    return { problem: `${file} holds no public key in PEM (${(err as Error).message})` };
  }
  return key.asymmetricKeyType === 'ed25519'
    ? { key }
    : { problem: `${file} holds an ${key.asymmetricKeyType ?? 'unknown'} key, not an ed25519 one` };
}

/**
 * Reads the trusted keys and the NATS credentials, and checks that NATS's TLS files can be read: every
 * problem at once, none thrown.
 */
export async function readRunFiles(
  config: Pick<AgentConfig, 'rules' | 'nats'>,
): Promise<{ files: RunFiles; problems: PreflightProblem[] }> {
  const problems: PreflightProblem[] = [];
  const trustedKeys = new Map<string, KeyObject>();
  for (const [id, file] of Object.entries(config.rules.trustedKeys)) {
    const path = `rules.trustedKeys.${id}`;
    let pem: string;
    try {
      pem = await readFile(file, 'utf8');
    } catch (err) {
      problems.push({ code: 'TRUSTED_KEY_UNREADABLE', path, message: unreadable(file, err) });
      continue;
    }
    const read = ed25519Key(file, pem);
    if ('key' in read) trustedKeys.set(id, read.key);
    else problems.push({ code: 'TRUSTED_KEY_INVALID', path, message: read.problem });
  }
  let credentials: Uint8Array | undefined;
  let nkeySeed: Uint8Array | undefined;
  const nats = config.nats;
  const natsFiles: [string, string | undefined][] = [
    ['nats.credentials', nats?.credentials],
    ['nats.nkeyFile', nats?.nkeyFile],
    ['nats.tls.ca', nats?.tls?.ca],
    ['nats.tls.cert', nats?.tls?.cert],
    ['nats.tls.key', nats?.tls?.key],
  ];
  for (const [path, file] of natsFiles) {
    if (file === undefined) continue;
    try {
      const bytes = await readFile(file);
      if (path === 'nats.credentials') credentials = bytes;
      if (path === 'nats.nkeyFile') {
        const seed = bytes.toString('utf8').trim();
        if (/^SU[A-Z2-7]{56}$/.test(seed)) nkeySeed = new TextEncoder().encode(seed);
        else
          problems.push({
            code: 'NATS_FILE_UNREADABLE',
            path,
            message: `${file} holds no nkey user seed (one line starting SU, as rhi-controller nats add-node writes it)`,
          });
      }
    } catch (err) {
      problems.push({ code: 'NATS_FILE_UNREADABLE', path, message: unreadable(file, err) });
    }
  }
  return {
    files: { trustedKeys, ...(credentials ? { credentials } : {}), ...(nkeySeed ? { nkeySeed } : {}) },
    problems,
  };
}

/** Why the admin TCP endpoint cannot listen on `address`, in words. Pure. */
export function listenProblem(address: string, err: unknown): string {
  const { host, port } = parseListen(address);
  switch (errno(err)) {
    case 'EADDRINUSE':
      return `cannot listen on ${address}: another process already listens there`;
    case 'EACCES':
      return `cannot listen on ${address}: permission denied${port < 1024 ? ' (a port below 1024 needs root or CAP_NET_BIND_SERVICE)' : ''}`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${address}: ${host} is not an address of this machine`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `cannot listen on ${address}: ${host} does not resolve to an address`;
    case 'ERR_SOCKET_BAD_PORT':
      return `cannot listen on ${address}: expected a port from 0 to 65535`;
    default:
      return `cannot listen on ${address}: ${errno(err) ?? (err instanceof Error ? err.message : String(err))}`;
  }
}

/** The admin socket's setup error as a problem (its message already starts with `admin.socket: `). */
function socketProblem(err: unknown): PreflightProblem | null {
  if (err instanceof AdminSocketInUseError || err instanceof AdminSocketSetupError) {
    const group = err instanceof AdminSocketSetupError && err.op === 'group';
    const text = err.message.replace(/^admin\.socket: /, '');
    return {
      code: err instanceof AdminSocketInUseError ? 'ADMIN_SOCKET_IN_USE' : 'ADMIN_SOCKET_FAILED',
      path: group ? 'admin.socketGroup' : 'admin.socket',
      message: group ? text.replace(/^socketGroup: /, '') : text,
    };
  }
  return null;
}

/** Listens on `admin.listen` (the reads); throws {@link PreflightFailedError} with why it cannot. */
export async function listenAdminTcp(server: Server, address: string): Promise<AddressInfo> {
  try {
    return await listen(server, address);
  } catch (err) {
    throw new PreflightFailedError(
      [{ code: 'ADMIN_LISTEN_FAILED', path: 'admin.listen', message: listenProblem(address, err) }],
      { cause: err },
    );
  }
}

/**
 * Listens on `admin.socket` with its mode and group (the reads and the controls); throws
 * {@link PreflightFailedError} with why it cannot.
 */
export async function listenAdminSocket(server: Server, admin: AgentConfig['admin']): Promise<void> {
  const { socket, socketMode, socketGroup } = admin;
  try {
    const gid = socketGroup === undefined ? process.getgid?.() : await resolveGroup(socketGroup);
    if (gid === null || gid === undefined)
      throw new AdminSocketSetupError(
        socket,
        'group',
        `socketGroup: no group '${socketGroup}' on this machine`,
      );
    await listenControlSocket(server, socket, {
      mode: socketMode,
      gid,
      ...(socketGroup === undefined ? {} : { group: String(socketGroup) }),
    });
  } catch (err) {
    const problem = socketProblem(err);
    if (problem) throw new PreflightFailedError([problem], { cause: err });
    throw err;
  }
}

/** The admin endpoints, listening. */
export interface AdminEndpoints {
  readonly tcp: Server;
  readonly address: AddressInfo;
  readonly control: Server;
}

/**
 * Opens both admin endpoints as `run` does: TCP (reads only) then the control socket; on a failure,
 * closes what it opened and throws {@link PreflightFailedError}.
 */
export async function openAdmin(admin: AgentConfig['admin'], sources: AdminSources): Promise<AdminEndpoints> {
  const tcp = createAdminServer(sources, { controls: false, controlSocket: admin.socket });
  const address = await listenAdminTcp(tcp, admin.listen);
  const control = createAdminServer(sources, { controls: true });
  try {
    await listenAdminSocket(control, admin);
  } catch (err) {
    tcp.close();
    throw err;
  }
  return { tcp, address, control };
}

// Not `import ... from 'node:http'`: see admin/server.ts (the ESM namespace loads undici).
const http = process.getBuiltinModule('node:http');

/** Whether an rhi-agent answers at `target` (its admin endpoints say `server: rhi-agent`). */
function agentAnswers(target: { host: string; port: number } | { socketPath: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request({ ...target, method: 'HEAD', path: '/healthz', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.headers.server === 'rhi-agent');
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

const closed = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

/** What `check` found of the admin endpoints. */
export interface AdminProbe {
  readonly problems: readonly PreflightProblem[];
  /** Paths (`admin.listen`, `admin.socket`) held by a running rhi-agent: free once it stops. */
  readonly heldByAgent: readonly string[];
}

/**
 * For `check`: opens each admin endpoint exactly as `run` would (the control socket with its mode and
 * group), then closes it. A port or socket a running rhi-agent holds is not a problem: `systemctl
 * restart` stops that one first.
 */
export async function probeAdmin(admin: AgentConfig['admin']): Promise<AdminProbe> {
  const problems: PreflightProblem[] = [];
  const heldByAgent: string[] = [];
  const attempt = async (
    path: string,
    open: (server: Server) => Promise<unknown>,
    held: () => Promise<boolean>,
  ) => {
    const server = http.createServer();
    try {
      await open(server);
      await closed(server);
    } catch (err) {
      if (!(err instanceof PreflightFailedError)) throw err;
      const busy =
        err.problems.some((p) => p.code === 'ADMIN_SOCKET_IN_USE') || errno(err.cause) === 'EADDRINUSE';
      if (busy && (await held())) heldByAgent.push(path);
      else problems.push(...err.problems);
    }
  };
  const { host, port } = parseListen(admin.listen);
  await attempt(
    'admin.listen',
    (server) => listenAdminTcp(server, admin.listen),
    () => agentAnswers({ host, port }),
  );
  await attempt(
    'admin.socket',
    (server) => listenAdminSocket(server, admin),
    () => agentAnswers({ socketPath: admin.socket }),
  );
  return { problems, heldByAgent };
}

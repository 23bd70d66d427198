import { lstatSync, unlinkSync } from 'node:fs';
import { chmod, chown, lstat, readFile, rename, stat, unlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { basename, dirname, join } from 'node:path';

/** Another process (an agent already running) answers on the control socket's path. */
export class AdminSocketInUseError extends Error {
  readonly code = 'ADMIN_SOCKET_IN_USE';
  constructor(readonly socketPath: string) {
    super(`admin.socket: another process answers on ${socketPath} (is an agent already running?)`);
    this.name = 'AdminSocketInUseError';
  }
}

/** The control socket could not be created with its mode and group. */
export class AdminSocketSetupError extends Error {
  readonly code = 'ADMIN_SOCKET_SETUP';
  constructor(
    readonly socketPath: string,
    readonly op: 'group' | 'replace' | 'bind' | 'chmod' | 'chown' | 'rename',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`admin.socket: ${message}`, options);
    this.name = 'AdminSocketSetupError';
  }
}

/** Who may connect: the socket's mode and group (its owner is the agent's user). */
export interface SocketAccess {
  readonly mode: number;
  readonly gid: number;
  /** The group as configured, for messages. */
  readonly group?: string;
}

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** A group name's gid (null when there is no such group): /etc/group, else NSS (`getent group`). */
export async function resolveGroup(group: string | number): Promise<number | null> {
  if (typeof group === 'number') return group;
  if (/^\d+$/.test(group)) return Number(group);
  const line = (text: string) =>
    text.split('\n').find((l) => l.startsWith(`${group}:`) && l.split(':').length >= 3);
  let found = line(await readFile('/etc/group', 'utf8').catch(() => ''));
  if (!found) {
    const { execFile } = process.getBuiltinModule('node:child_process');
    found = await new Promise<string | undefined>((resolve) =>
      execFile('getent', ['group', group], { timeout: 5000 }, (err, stdout) =>
        resolve(err ? undefined : line(stdout)),
      ),
    );
  }
  const gid = Number(found?.split(':')[2]);
  return found && Number.isInteger(gid) ? gid : null;
}

/** A gid's group name, or the number when it has none. */
export async function groupName(gid: number): Promise<string> {
  const entry = (text: string) =>
    text
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => f.length >= 3 && f[2] === String(gid));
  let found = entry(await readFile('/etc/group', 'utf8').catch(() => ''));
  if (!found) {
    const { execFile } = process.getBuiltinModule('node:child_process');
    found = await new Promise<string[] | undefined>((resolve) =>
      execFile('getent', ['group', String(gid)], { timeout: 5000 }, (err, stdout) =>
        resolve(err ? undefined : entry(stdout)),
      ),
    );
  }
  return found?.[0] || String(gid);
}

async function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** Leaves the path free to be renamed over: nothing there, or a socket nobody answers on (a crashed agent's). */
async function clearForReplace(socketPath: string): Promise<void> {
  let stats;
  try {
    stats = await lstat(socketPath);
  } catch (err) {
    if (errno(err) === 'ENOENT') return;
    throw new AdminSocketSetupError(socketPath, 'replace', `cannot look at ${socketPath}: ${errno(err)}`, {
      cause: err,
    });
  }
  if (!stats.isSocket())
    throw new AdminSocketSetupError(
      socketPath,
      'replace',
      `${socketPath} exists and is not a socket; not replacing it`,
    );
  if (await answers(socketPath)) throw new AdminSocketInUseError(socketPath);
}

async function bindFailure(socketPath: string, err: unknown): Promise<AdminSocketSetupError> {
  const dir = dirname(socketPath);
  // libuv reports a missing directory as EACCES when it binds a unix socket.
  const missing =
    errno(err) === 'ENOENT' ||
    (await stat(dir).then(
      () => false,
      (e: unknown) => errno(e) === 'ENOENT',
    ));
  const why = missing
    ? `the directory ${dir} does not exist (packaging/rhi-agent.tmpfiles.conf creates /run/rhi)`
    : errno(err) === 'EACCES'
      ? `the agent may not create files in ${dir}`
      : String(errno(err) ?? (err as Error).message);
  return new AdminSocketSetupError(socketPath, 'bind', `cannot create ${socketPath}: ${why}`, { cause: err });
}

/**
 * Listens on a unix socket with exactly the mode and group given: bound under a temporary name in the
 * same directory, given its mode and group, then renamed over the path (HAProxy sets up its stats
 * socket the same way), so that the path never has another mode, and a crashed agent's socket is
 * replaced. Refuses when another process answers on the path or something other than a socket is there.
 * Closing the server removes the socket if it is still this one.
 */
export async function listenControlSocket(
  server: Server,
  socketPath: string,
  access: SocketAccess,
): Promise<void> {
  await clearForReplace(socketPath);
  const temporary = join(dirname(socketPath), `.${basename(socketPath)}.${process.pid.toString(36)}`);
  await unlink(temporary).catch(() => undefined);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(temporary, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw await bindFailure(socketPath, err);
  }
  const step = async (op: 'chmod' | 'chown' | 'rename', run: () => Promise<void>, message: string) => {
    try {
      await run();
    } catch (err) {
      server.close();
      await unlink(temporary).catch(() => undefined);
      throw new AdminSocketSetupError(socketPath, op, `${message}: ${errno(err) ?? (err as Error).message}`, {
        cause: err,
      });
    }
  };
  await step('chmod', () => chmod(temporary, access.mode), `cannot set the mode of ${socketPath}`);
  await step(
    'chown',
    () => chown(temporary, -1, access.gid),
    `cannot give ${socketPath} the group ${access.group ?? access.gid} (the agent must be a member of it)`,
  );
  await step('rename', () => rename(temporary, socketPath), `cannot put the socket at ${socketPath}`);
  const own = await lstat(socketPath);
  server.once('close', () => {
    try {
      const now = lstatSync(socketPath);
      if (now.ino === own.ino && now.dev === own.dev) unlinkSync(socketPath);
    } catch {
      // Already gone: nothing to remove.
    }
  });
}

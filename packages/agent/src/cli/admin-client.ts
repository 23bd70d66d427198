import { lstat } from 'node:fs/promises';
import type { IncomingMessage, RequestOptions } from 'node:http';
import { dirname } from 'node:path';
import { groupName } from '../admin/control-socket.js';
import { parseListen } from '../admin/server.js';
import type { AgentConfig } from '../config/schema.js';

/** The running agent cannot be reached: not running, or no socket where the configuration says. */
export class AdminUnreachableError extends Error {
  readonly code = 'ADMIN_UNREACHABLE';
  constructor(
    message: string,
    readonly target: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AdminUnreachableError';
  }
}

/** The request was refused: by the file permissions of the control socket, or by the agent. */
export class AdminRefusedError extends Error {
  readonly code = 'ADMIN_REFUSED';
  constructor(
    message: string,
    readonly target: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AdminRefusedError';
  }
}

// As in the admin server: node:http's ESM namespace would load Node's bundled undici.
const { request } = process.getBuiltinModule('node:http');

const octal = (mode: number) => `0${(mode & 0o7777).toString(8)}`;

/**
 * What to tell an operator who may not open `path`: its mode and group, and who may. Looks at the
 * directory instead when the path itself cannot be looked at.
 */
export async function permissionDenied(path: string): Promise<string> {
  for (const at of [path, dirname(path)]) {
    try {
      const stats = await lstat(at);
      const group = await groupName(stats.gid);
      return `permission denied on ${at} (mode ${octal(stats.mode)}, group ${group}): run as root or as a member of group ${group}`;
    } catch {
      // Not even visible: say so about its directory.
    }
  }
  return `permission denied on ${path}: run as root or as a member of its group`;
}

async function unreachable(socketPath: string, err: unknown): Promise<Error> {
  const code = (err as NodeJS.ErrnoException).code;
  const running = 'is the agent running? (systemctl status rhi-agent)';
  if (code === 'EACCES' || code === 'EPERM')
    return new AdminRefusedError(await permissionDenied(socketPath), socketPath, undefined, { cause: err });
  if (code === 'ENOENT')
    return new AdminUnreachableError(`no admin socket at ${socketPath}: ${running}`, socketPath, {
      cause: err,
    });
  if (code === 'ECONNREFUSED')
    return new AdminUnreachableError(`nothing answers on ${socketPath}: ${running}`, socketPath, {
      cause: err,
    });
  return new AdminUnreachableError(
    `cannot reach the agent on ${socketPath}: ${code ?? (err as Error).message}`,
    socketPath,
    { cause: err },
  );
}

/**
 * The CLI's way to the running agent: reads over TCP (`admin.listen`, open to every local user), the
 * controls and the reads of a drain over the control socket (`admin.socket`, whose permissions decide).
 */
export class AdminClient {
  constructor(private readonly admin: AgentConfig['admin']) {}

  /** A read over TCP: `/status`. */
  async read(path: string): Promise<unknown> {
    const { host, port } = parseListen(this.admin.listen);
    const local = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    try {
      return await this.send({ host: local, port, method: 'GET', path }, '', this.admin.listen);
    } catch (err) {
      if (err instanceof AdminRefusedError) throw err;
      throw new AdminUnreachableError(
        `the agent does not answer on ${this.admin.listen} (is it running?): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        this.admin.listen,
        { cause: err },
      );
    }
  }

  /**
   * A read from whichever endpoint answers: TCP (`admin.listen`), else the control socket. When neither
   * does, rejects with the TCP endpoint's error.
   */
  async readEither(path: string): Promise<unknown> {
    try {
      return await this.read(path);
    } catch (err) {
      if (!(err instanceof AdminUnreachableError)) throw err;
      try {
        return await this.control('GET', path);
      } catch {
        throw err;
      }
    }
  }

  /** A request over the control socket: `POST /drain` with a JSON body, `POST /undrain`, `GET /status`. */
  async control(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const socketPath = this.admin.socket;
    try {
      return await this.send(
        {
          socketPath,
          method,
          path,
          ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' } }),
        },
        body === undefined ? '' : JSON.stringify(body),
        socketPath,
      );
    } catch (err) {
      if (err instanceof AdminRefusedError) throw err;
      throw await unreachable(socketPath, err);
    }
  }

  private send(options: RequestOptions, body: string, target: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = request({ ...options, timeout: 10_000 }, (res: IncomingMessage) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', reject);
        res.on('end', () => {
          let parsed: { ok?: boolean; error?: string } | undefined;
          try {
            parsed = JSON.parse(text) as { ok?: boolean; error?: string };
          } catch {
            parsed = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300 && parsed !== undefined) return resolve(parsed);
          reject(
            new AdminRefusedError(
              `the agent refused: ${parsed?.error ?? (text.trim() || `HTTP ${status}`)}`,
              target,
              status,
            ),
          );
        });
      });
      req.once('timeout', () => req.destroy(new Error('no answer within 10 s')));
      req.once('error', reject);
      req.end(body);
    });
  }
}

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * HTTP servers on unix sockets (HAProxy: `server s1 unix@<path>`) that answer 200, each stoppable and
 * restartable on its path. Unlike `startBackends`, stopping one frees no TCP port that another process
 * could take before it starts again.
 */
export interface UnixBackends {
  readonly paths: readonly string[];
  stop(index: number): Promise<void>;
  /** Listens again on the backend's path; a backend already listening is left as it is. */
  start(index: number): Promise<void>;
  /** Stops every server and removes their directory. */
  close(): Promise<void>;
}

function listenOn(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

// Node removes the socket file when a server that created it closes.
function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startUnixBackends(count: number): Promise<UnixBackends> {
  const dir = await mkdtemp(join(tmpdir(), 'rhi-backends-'));
  const servers: Server[] = [];
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer((_req, res) => res.end('ok\n'));
    const path = join(dir, `backend-${i}.sock`);
    await listenOn(server, path);
    servers.push(server);
    paths.push(path);
  }
  const at = (i: number): [Server, string] => {
    const server = servers[i];
    const path = paths[i];
    if (!server || !path) throw new Error(`no backend ${i}`);
    return [server, path];
  };
  return {
    paths,
    stop: (i) => close(at(i)[0]),
    start: (i) => (at(i)[0].listening ? Promise.resolve() : listenOn(...at(i))),
    close: async () => {
      await Promise.all(servers.map(close));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

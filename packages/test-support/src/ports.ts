import { createServer } from 'node:net';

/** A TCP port kept from other processes while its daemon is down. */
export interface PortHold {
  /** Frees the port (the daemon can bind it again at once). */
  release(): Promise<void>;
}

/**
 * Binds `host:port` while a test keeps the daemon that owns it stopped, so that no other process (another
 * test's `freePort()`, a listener on port 0) takes the port before the daemon starts on it again. Every
 * connection is closed as soon as it is accepted: clients see the daemon gone, as with a refused connect.
 */
export function holdPort(port: number, host = '127.0.0.1'): Promise<PortHold> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({ release: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

const PORT_CLASH = /address already in use|EADDRINUSE/i;

/**
 * Starts a daemon on ports from `freePort()`, again (up to `attempts` times) when it failed because one
 * of them was taken in between: `freePort()` releases a port before the daemon binds it, and another
 * process may bind it first. `start` must choose its ports anew on each call; other failures are thrown.
 */
export async function retryOnPortClash<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= attempts || !PORT_CLASH.test((err as Error).message)) throw err;
    }
  }
}

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon } from './process.js';
import { freePort, GiveUp, waitFor } from './util.js';

/**
 * Sends one command on a BIRD control socket: waits for the `0001` greeting, sends, and reads up to the
 * reply's final line (`DDDD ` with a space), then closes. BIRD keeps the connection open otherwise.
 */
export function birdCommand(path: string, line: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    let sent = false;
    const socket = connect(path);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`bird did not answer '${line}' within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => {
      buffer += c.toString();
      if (!sent && /^0001 .*\n/m.test(buffer)) {
        sent = true;
        buffer = '';
        socket.write(`${line}\n`);
      } else if (sent && /^\d{4} .*\n/m.test(buffer)) {
        clearTimeout(timer);
        socket.end();
        resolve(buffer);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** A real BIRD in the foreground with its own control socket. */
export interface BirdInstance {
  readonly dir: string;
  readonly socket: string;
  readonly configPath: string;
  /** Sends one command and returns the raw reply (up to the first final line). */
  command(line: string): Promise<string>;
  /** Kills BIRD (SIGKILL) and starts it again from its config files. */
  restart(): Promise<void>;
  /** Stops BIRD cleanly (SIGTERM), keeping its files; `start()` runs it again. */
  halt(): Promise<void>;
  /** Starts a halted BIRD again from its config files and waits for its greeting. */
  start(): Promise<void>;
  /** Stops BIRD and removes its directory. */
  stop(): Promise<void>;
}

/**
 * BIRD without a `log` line logs to syslog, and without /dev/log (as in a container or a bare VM) glibc
 * falls back to /dev/console: on a VM with a serial console each line then costs a millisecond or more
 * of BIRD's time, on every `configure`. Tests log to stderr instead, which Daemon keeps for failures.
 */
function withLog(config: string): string {
  return /^\s*log\s/m.test(config) ? config : `log stderr all;\n${config}`;
}

/**
 * Starts `bird -f -c <dir>/<name>.conf -s <dir>/<name>.ctl`; `config` may name files in `dir`. Unless the
 * config has a `log` line, BIRD logs to stderr (kept in the failure output).
 */
export async function startBird(options: {
  readonly name: string;
  readonly config: (dir: string) => string;
  /** Files to create in the dir before BIRD starts (e.g. an empty include). */
  readonly files?: Readonly<Record<string, string>>;
  /** A network namespace to run BIRD in (`ip netns exec`); its control socket is reachable from anywhere. */
  readonly netns?: string;
}): Promise<BirdInstance> {
  const dir = await mkdtemp(join(tmpdir(), `rhi-bird-${options.name}-`));
  const socket = join(dir, `${options.name}.ctl`);
  const configPath = join(dir, `${options.name}.conf`);
  for (const [name, text] of Object.entries(options.files ?? {})) await writeFile(join(dir, name), text);
  await writeFile(configPath, withLog(options.config(dir)));
  let daemon: Daemon;
  const launch = async () => {
    const args = ['-f', '-c', configPath, '-s', socket, '-P', join(dir, `${options.name}.pid`)];
    // `ip netns exec` enters the namespace and execs BIRD in the same process: signals reach BIRD.
    daemon = options.netns
      ? Daemon.spawn('ip', ['netns', 'exec', options.netns, 'bird', ...args])
      : Daemon.spawn('bird', args);
    await waitFor(`bird ${options.name} to greet`, async () => {
      if (!daemon.running) throw new GiveUp(`bird exited: ${daemon.log}`);
      const reply = await birdCommand(socket, 'show status', 500);
      return /^0013 /m.test(reply) ? true : undefined;
    });
  };
  await launch();
  const command = (line: string) => birdCommand(socket, line);
  return {
    dir,
    socket,
    configPath,
    command,
    restart: async () => {
      await daemon.kill();
      await launch();
    },
    halt: () => daemon.stop(),
    start: async () => {
      if (!daemon.running) await launch();
    },
    stop: async () => {
      await daemon.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A real nats-server with JetStream and user/password auth, restartable on the same port. */
export interface NatsInstance {
  readonly url: string;
  readonly user: string;
  readonly password: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startNats(): Promise<NatsInstance> {
  const dir = await mkdtemp(join(tmpdir(), 'rhi-nats-'));
  let port = await freePort();
  const user = 'rhi';
  const password = 'rhi-test-secret';
  let daemon: Daemon | null = null;
  const start = async () => {
    const d = Daemon.spawn('nats-server', [
      '-a',
      '127.0.0.1',
      '-p',
      String(port),
      '--user',
      user,
      '--pass',
      password,
      '-js',
      '-sd',
      dir,
    ]);
    daemon = d;
    await waitFor('nats-server to be ready', () => {
      if (!d.running) throw new GiveUp(`nats-server exited: ${d.log}`);
      return d.log.includes('Server is ready') ? true : undefined;
    });
  };
  // freePort() releases the port before nats-server binds it; another process may take it in between.
  for (let tries = 1; ; tries++) {
    try {
      await start();
      break;
    } catch (err) {
      if (tries >= 3 || !(err instanceof GiveUp) || !/address already in use/.test(err.message)) throw err;
      port = await freePort();
    }
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    user,
    password,
    start,
    stop: async () => {
      await daemon?.kill();
    },
    destroy: async () => {
      await daemon?.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** nats-servers of one cluster, each started on its own config file, each restartable. */
export interface NatsCluster {
  /** Server `i`'s log so far. */
  log(i: number): string;
  /** Stops server `i` (SIGTERM), keeping its storage. */
  stop(i: number): Promise<void>;
  /** Starts server `i` again on its config (same ports, same storage); resolves once it is ready. */
  start(i: number): Promise<void>;
  /** Kills every server (their storage is the caller's). */
  destroy(): Promise<void>;
}

/**
 * Starts one nats-server per config file (a cluster's members, as `rhi-controller nats init --cluster`
 * writes them) and resolves once they are ready and have elected a JetStream metadata leader.
 */
export async function startNatsCluster(configs: readonly string[]): Promise<NatsCluster> {
  const daemons: (Daemon | null)[] = configs.map(() => null);
  const start = async (i: number) => {
    const d = Daemon.spawn('nats-server', ['-c', configs[i]!]);
    daemons[i] = d;
    await waitFor(`nats-server ${configs[i]} to be ready`, () => {
      if (!d.running) throw new GiveUp(`nats-server ${configs[i]} exited: ${d.log}`);
      return d.log.includes('Server is ready') ? true : undefined;
    });
  };
  await Promise.all(configs.map((_, i) => start(i)));
  await waitFor(
    'the cluster to elect a JetStream metadata leader',
    () => (daemons.some((d) => d?.log.includes('JetStream cluster new metadata leader')) ? true : undefined),
    30_000,
  );
  return {
    log: (i) => daemons[i]?.log ?? '',
    stop: async (i) => {
      await daemons[i]?.stop();
    },
    start,
    destroy: async () => {
      await Promise.all(daemons.map((d) => d?.kill()));
    },
  };
}

/** A nats-server started on a config file of the test's (its listen address overridden). */
export interface ConfiguredNats {
  readonly url: string;
  /** The server's process id, for tools that signal it themselves (`rhi-controller nats --reload PID`). */
  readonly pid: number;
  /** SIGHUP: the server reloads its config (users, permissions) without a restart; resolves once it has. */
  reload(): Promise<void>;
  readonly log: () => string;
  stop(): Promise<void>;
}

/** Starts `nats-server -c configFile` on a free loopback port. */
export async function startNatsWithConfig(configFile: string): Promise<ConfiguredNats> {
  for (let tries = 1; ; tries++) {
    const port = await freePort();
    const d = Daemon.spawn('nats-server', ['-c', configFile, '-a', '127.0.0.1', '-p', String(port)]);
    try {
      await waitFor('nats-server to be ready', () => {
        if (!d.running) throw new GiveUp(`nats-server exited: ${d.log}`);
        return d.log.includes('Server is ready') ? true : undefined;
      });
    } catch (err) {
      if (tries < 3 && err instanceof GiveUp && /address already in use/.test(err.message)) continue;
      throw err;
    }
    const pid = d.child.pid;
    if (pid === undefined) throw new Error('nats-server has no process id');
    return {
      url: `nats://127.0.0.1:${port}`,
      pid,
      log: () => d.log,
      reload: async () => {
        const before = d.log.split('Reloaded server configuration').length;
        d.child.kill('SIGHUP');
        await waitFor('nats-server to reload its config', () => {
          if (!d.running) throw new GiveUp(`nats-server exited: ${d.log}`);
          return d.log.split('Reloaded server configuration').length > before ? true : undefined;
        });
      },
      stop: () => d.stop(),
    };
  }
}

/**
 * HTTP servers on loopback that answer 200 (404 on `/nolb`, for HAProxy's `http-check` NOLB tests); each
 * can be stopped and started again on its port.
 */
export interface Backends {
  readonly ports: readonly number[];
  stop(index: number): Promise<void>;
  start(index: number): Promise<void>;
  close(): Promise<void>;
}

function listenOn(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startBackends(count: number): Promise<Backends> {
  const servers: Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/nolb' ? 404 : 200;
      res.end('ok\n');
    });
    servers.push(server);
    ports.push(await listenOn(server, 0));
  }
  const at = (i: number) => {
    const server = servers[i];
    if (!server) throw new Error(`no backend ${i}`);
    return server;
  };
  return {
    ports,
    stop: (i) => close(at(i)),
    start: async (i) => {
      await listenOn(at(i), ports[i] ?? 0);
    },
    close: async () => {
      await Promise.all(servers.map(close));
    },
  };
}

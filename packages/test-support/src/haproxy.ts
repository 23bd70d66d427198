import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon } from './process.js';
import { freePort, GiveUp, waitFor } from './util.js';

/**
 * Sends one line to a HAProxy stats or master socket (unix path, or a TCP port on 127.0.0.1), half-closes,
 * and returns everything read until HAProxy closes.
 */
export function statsCommand(socket: string | number, line: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = typeof socket === 'number' ? connect(socket, '127.0.0.1') : connect(socket);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no reply to ${line} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('connect', () => s.end(`${line}\n`));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    s.on('end', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

function waitForMaster(masterSocket: string, workerPid: number): Promise<true> {
  return waitFor('the master to list the worker', async () => {
    const procs = await statsCommand(masterSocket, 'show proc', 2000);
    return new RegExp(`^${workerPid} +worker`, 'm').test(procs) ? true : undefined;
  });
}

/** The master's count of failed reloads (`show proc`: `<pid> master <reloads> [failed: <n>] ...`). */
async function failedReloads(masterSocket: string): Promise<number> {
  const procs = await statsCommand(masterSocket, 'show proc', 2000);
  const m = /^\d+ +master +\d+ \[failed: (\d+)\]/m.exec(procs);
  if (!m) throw new Error(`no master line in show proc: ${procs}`);
  return Number(m[1]);
}

export interface HaproxyOptions {
  /**
   * Frontend/backend sections, or a function of the instance's temp dir (to bind frontends to
   * `unix@${dir}/x.sock`).
   */
  readonly sections: string | ((dir: string) => string);
  /** Master-worker mode with a master CLI (`-W -S`), as Debian's unit runs HAProxy. Default true. */
  readonly masterWorker?: boolean;
  /** `stats timeout`. Default 30s. */
  readonly statsTimeout?: string;
  /** `nbthread`; default HAProxy's own (one thread per CPU). */
  readonly nbthread?: number;
  /**
   * Keep server states across reloads as Debian's `seamless_reload.txt` says: `server-state-file` and
   * `load-server-state-from-file global`, and `reload()` first saves `show servers state` (read from a
   * worker that is not stopping) to that file. Without it, a new worker starts every checked server up.
   */
  readonly serverState?: boolean;
  /** More lines for the `global` section, e.g. a `log` target. */
  readonly global?: readonly string[];
}

/** How `reload()` reloads. */
export interface ReloadOptions {
  /** Master-worker: send `reload` on the master CLI instead of SIGUSR2. */
  readonly viaMasterCli?: boolean;
  /** Without master-worker: `-st` (the old process stops at once) instead of `-sf`. */
  readonly hardStop?: boolean;
}

export interface HaproxyInstance {
  readonly dir: string;
  readonly adminSocket: string;
  readonly operatorSocket: string;
  readonly userSocket: string;
  /** `ipv4@127.0.0.1:<port>`, level admin. */
  readonly tcpSocket: string;
  readonly tcpPort: number;
  /** `ipv6@[::1]:<port>`, level admin. */
  readonly tcp6Socket: string;
  readonly masterSocket: string | undefined;
  readonly configPath: string;
  readonly config: string;
  /** The pid of the worker in charge (not a stopping one), from `show info`. */
  workerPid(): Promise<number>;
  /**
   * Reload and resolve with the new worker's pid once it answers: SIGUSR2 to the master in master-worker
   * mode, otherwise a new process started with `-sf <old pid> -x <admin socket>` (the stats socket has
   * `expose-fd listeners`).
   */
  reload(options?: ReloadOptions): Promise<number>;
  /**
   * Reload with a config HAProxy rejects (write it to `configPath` first). Resolves with the worker's pid
   * once HAProxy has given up on the new config: the new process exited with an error (without
   * master-worker), or the master's `show proc` counts one more failed reload. Throws if a new worker
   * took over or the old one stopped answering.
   */
  reloadRejected(options?: ReloadOptions): Promise<number>;
  /** Sends one line to the admin socket (`disable server be/s1`, ...) and returns the reply. */
  command(line: string): Promise<string>;
  stop(): Promise<void>;
}

/** The config file: the harness's global section and defaults, then the caller's sections. */
function haproxyConfig(
  options: HaproxyOptions,
  at: { dir: string; adminSocket: string; serverStateFile: string; tcpPort: number; tcp6Port: number },
): string {
  return [
    'global',
    `    stats socket ${at.adminSocket} level admin expose-fd listeners`,
    `    stats socket ${join(at.dir, 'operator.sock')} level operator`,
    `    stats socket ${join(at.dir, 'user.sock')} level user`,
    `    stats socket ipv4@127.0.0.1:${at.tcpPort} level admin`,
    `    stats socket ipv6@[::1]:${at.tcp6Port} level admin`,
    `    stats timeout ${options.statsTimeout ?? '30s'}`,
    ...(options.nbthread === undefined ? [] : [`    nbthread ${options.nbthread}`]),
    ...(options.serverState ? [`    server-state-file ${at.serverStateFile}`] : []),
    ...(options.global ?? []).map((line) => `    ${line}`),
    '    log ring@events local0 notice',
    'ring events',
    '    format rfc5424',
    '    size 65536',
    'defaults',
    ...(options.serverState ? ['    load-server-state-from-file global'] : []),
    '    mode http',
    '    log global',
    '    timeout connect 1s',
    '    timeout client 5s',
    '    timeout server 5s',
    typeof options.sections === 'string' ? options.sections : options.sections(at.dir),
    '',
  ].join('\n');
}

/**
 * Starts a real HAProxy (`haproxy -W -db -S <master>`, or `haproxy -db` without master-worker) with admin,
 * operator and user stats sockets (unix), admin sockets on 127.0.0.1 and ::1, a `ring events` fed with
 * state changes in `format rfc5424` (see the haproxy-client README), and the caller's `sections`.
 */
export async function startHaproxy(options: HaproxyOptions): Promise<HaproxyInstance> {
  const dir = await mkdtemp(join(tmpdir(), 'rhi-haproxy-'));
  const adminSocket = join(dir, 'admin.sock');
  const serverStateFile = join(dir, 'server-state');
  const configPath = join(dir, 'haproxy.cfg');
  const masterSocket = (options.masterWorker ?? true) ? join(dir, 'master.sock') : undefined;
  const args = masterSocket ? ['-W', '-db', '-S', masterSocket, '-f', configPath] : ['-db', '-f', configPath];
  // Without master-worker, each reload is a process of its own; stop() stops them all.
  const processes: Daemon[] = [];
  const launch = (extra: readonly string[]): Daemon => {
    const daemon = Daemon.spawn('haproxy', [...args, ...extra]);
    processes.push(daemon);
    return daemon;
  };
  // The worker in charge: right after a reload, the stopping one may still answer on the shared socket.
  const workerInCharge = async (): Promise<number | undefined> => {
    const info = await statsCommand(adminSocket, 'show info', 2000);
    const m = /^Pid: (\d+)$/m.exec(info);
    if (!m) throw new Error(`no Pid in show info: ${info}`);
    return /^Stopping: 0$/m.test(info) ? Number(m[1]) : undefined;
  };
  const workerPid = (): Promise<number> => waitFor('a worker that is not stopping', workerInCharge);
  const stop = async (): Promise<void> => {
    for (const daemon of processes) await daemon.stop();
    await rm(dir, { recursive: true, force: true });
  };

  // The TCP stats ports come from freePort(), which releases a port before HAProxy binds it: another
  // process may take it in between. HAProxy then exits at once ("cannot bind socket"), and the start is
  // tried again on new ports.
  const attempt = async () => {
    const tcpPort = await freePort();
    const tcp6Port = await freePort('::1');
    const config = haproxyConfig(options, { dir, adminSocket, serverStateFile, tcpPort, tcp6Port });
    await writeFile(configPath, config);
    const first = launch([]);
    const pid = await waitFor('haproxy to answer on its stats socket', async () => {
      if (!first.running) throw new GiveUp(`haproxy exited: ${first.log}`);
      return workerInCharge();
    });
    return { tcpPort, tcp6Port, config, first, pid };
  };
  let started: Awaited<ReturnType<typeof attempt>> | undefined;
  try {
    for (let tries = 1; started === undefined; tries++) {
      try {
        started = await attempt();
      } catch (err) {
        if (tries >= 3 || !(err instanceof GiveUp) || !/cannot bind socket/.test(err.message)) throw err;
      }
    }
    // A master handles SIGUSR2 only once its own loop runs, which is when its CLI answers.
    if (masterSocket !== undefined) await waitForMaster(masterSocket, started.pid);
  } catch (err) {
    await stop();
    throw err;
  }
  const { tcpPort, tcp6Port, config, first } = started;

  /** Starts a reload of the worker `before`; without master-worker, returns the new process. */
  const startReload = async (before: number, reload: ReloadOptions): Promise<Daemon | undefined> => {
    if (options.serverState) await saveServerState();
    if (masterSocket === undefined)
      return launch([reload.hardStop ? '-st' : '-sf', String(before), '-x', adminSocket]);
    if (reload.viaMasterCli) await statsCommand(masterSocket, 'reload');
    else first.child.kill('SIGUSR2');
    return undefined;
  };
  // `show info` after the command: a worker that answered it while stopping (an earlier reload's) says so.
  const saveServerState = async (): Promise<void> => {
    const reply = await waitFor('server states from a worker that is not stopping', async () => {
      const text = await statsCommand(adminSocket, 'show servers state;show info', 2000);
      return /^Stopping: 0$/m.test(text) ? text : undefined;
    });
    await writeFile(serverStateFile, reply.slice(0, reply.indexOf('\n\n') + 1));
  };
  return {
    dir,
    adminSocket,
    operatorSocket: join(dir, 'operator.sock'),
    userSocket: join(dir, 'user.sock'),
    tcpSocket: `ipv4@127.0.0.1:${tcpPort}`,
    tcpPort,
    tcp6Socket: `ipv6@[::1]:${tcp6Port}`,
    masterSocket,
    configPath,
    config,
    workerPid,
    reload: async (reloadOptions = {}) => {
      const before = await workerPid();
      await startReload(before, reloadOptions);
      const pid = await waitFor('a new worker after reload', async () => {
        const now = await workerInCharge();
        return now !== before ? now : undefined;
      });
      // The master re-executes itself on reload; the next SIGUSR2 is only safe once its CLI lists the worker.
      if (masterSocket !== undefined) await waitForMaster(masterSocket, pid);
      return pid;
    },
    reloadRejected: async (reloadOptions = {}) => {
      const before = await workerPid();
      if (masterSocket === undefined) {
        const next = await startReload(before, reloadOptions);
        await next?.exited;
        if (next?.child.exitCode === 0) throw new Error(`the reload did not fail: ${next.log}`);
      } else {
        const failed = await failedReloads(masterSocket);
        await startReload(before, reloadOptions);
        await waitFor('the master to count a failed reload', async () =>
          (await failedReloads(masterSocket)) > failed ? true : undefined,
        );
        await waitForMaster(masterSocket, before);
      }
      const after = await workerPid();
      if (after !== before) throw new Error(`worker ${after} replaced ${before} after a rejected reload`);
      return after;
    },
    command: (line) => statsCommand(adminSocket, line),
    stop,
  };
}

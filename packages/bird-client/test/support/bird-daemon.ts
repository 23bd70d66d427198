import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BirdClient } from '../../src/client.js';

/** A real BIRD started in the foreground for a test, in its own temp dir with its own socket. */
export class BirdDaemon {
  private child: ChildProcess | undefined;
  readonly socketPath: string;
  readonly configPath: string;

  private constructor(
    readonly dir: string,
    readonly name: string,
  ) {
    this.socketPath = join(dir, `${name}.ctl`);
    this.configPath = join(dir, `${name}.conf`);
  }

  static async create(name: string, dir?: string): Promise<BirdDaemon> {
    return new BirdDaemon(dir ?? (await mkdtemp(join(tmpdir(), 'rhi-bird-test-'))), name);
  }

  async writeConfig(text: string): Promise<void> {
    await writeFile(this.configPath, text);
  }

  /** Starts BIRD and waits until its control socket greets. */
  async start(): Promise<void> {
    this.child = spawn(
      'bird',
      ['-f', '-c', this.configPath, '-s', this.socketPath, '-P', join(this.dir, `${this.name}.pid`)],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const client = new BirdClient({ socketPath: this.socketPath, timeoutMs: 1000 });
    for (let attempt = 0; ; attempt++) {
      try {
        await client.connect();
        client.close();
        return;
      } catch (err) {
        if (attempt > 200 || this.child.exitCode !== null) throw err;
        await sleep(25);
      }
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(3000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }

  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Runs `bird -p -c file`: parse the config and exit. */
export function birdParse(configPath: string): { ok: boolean; output: string } {
  const result = spawnSync('bird', ['-p', '-c', configPath], { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

/** A loopback address pair and port unique enough for parallel test files: 127.18.x.1 / 127.18.x.2. */
export function loopbackPair(): { local: string; remote: string; port: number } {
  const octet = 1 + Math.floor(Math.random() * 250);
  const third = Math.floor(Math.random() * 250);
  return {
    local: `127.${19 + (octet % 8)}.${third}.1`,
    remote: `127.${19 + (octet % 8)}.${third}.2`,
    port: 20000 + Math.floor(Math.random() * 40000),
  };
}

const TIMERS =
  'connect delay time 1; connect retry time 1; error wait time 1,2; hold time 6; keepalive time 2;';

/** Config of the injector's BIRD: the include, and an iBGP session exporting our protocols. */
export function injectorConfig(o: {
  includePath: string;
  local: string;
  remote: string;
  port: number;
  protocols?: [string, string];
}): string {
  const [v4, v6] = o.protocols ?? ['vol1', 'vol1_v6'];
  return `log stderr { error, bug };
router id 198.18.0.1;
protocol device { scan time 10; }
include "${o.includePath}";
protocol bgp peer1 {
  local ${o.local} port ${o.port} as 65001; neighbor ${o.remote} port ${o.port} as 65001;
  strict bind yes; multihop 2; ${TIMERS}
  ipv4 { next hop self; import none; export where proto = "${v4}"; };
  ipv6 { next hop self; next hop address 2001:2:ffff::1; import none; export where proto = "${v6}"; };
}
`;
}

/** Config of the BGP peer that receives the injected routes. */
export function peerConfig(o: { local: string; remote: string; port: number }): string {
  return `log stderr { error, bug };
router id 198.18.0.2;
protocol device { scan time 10; }
protocol bgp injector {
  local ${o.remote} port ${o.port} as 65001; neighbor ${o.local} port ${o.port} as 65001;
  strict bind yes; multihop 2; ${TIMERS}
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}
`;
}

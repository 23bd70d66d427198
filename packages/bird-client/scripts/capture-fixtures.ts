// Re-captures the reply transcripts in test/fixtures/replies from a real BIRD 2 and its BGP peer.
// Run as root from the package directory: node scripts/capture-fixtures.ts (RHI_FIXTURES_OUT=dir: elsewhere)
// Each fixture holds the raw bytes BIRD wrote for one command (the banner fixture: the greeting).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const out = process.env.RHI_FIXTURES_OUT ?? join(import.meta.dirname, '..', 'test', 'fixtures', 'replies');
const dir = await mkdtemp(join(tmpdir(), 'rhi-bird-capture-'));
const octet = 1 + Math.floor(Math.random() * 250);
const local = `127.18.${octet}.1`;
const remote = `127.18.${octet}.2`;
const port = 20000 + Math.floor(Math.random() * 40000);
const include = join(dir, 'rhi-routes.conf');

const timers =
  'connect delay time 1; connect retry time 1; error wait time 1,2; hold time 6; keepalive time 2;';
const injectorConf = `log "${join(dir, 'injector.log')}" all;
router id 198.18.0.1;
protocol device { scan time 10; }
include "${include}";
protocol bgp peer1 {
  local ${local} port ${port} as 65001; neighbor ${remote} port ${port} as 65001;
  strict bind yes; multihop 2; ${timers}
  ipv4 { next hop self; import none; export where proto = "vol1"; };
  ipv6 { next hop self; next hop address 2001:2:ffff::1; import none; export where proto = "vol1_v6"; };
}
`;
const peerConf = `log "${join(dir, 'peer.log')}" all;
router id 198.18.0.2;
protocol device { scan time 10; }
protocol bgp injector {
  local ${remote} port ${port} as 65001; neighbor ${local} port ${port} as 65001;
  strict bind yes; multihop 2; ${timers}
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}
`;
const routes = `protocol static vol1 {
  ipv4;
  route 198.18.10.1/32 via "lo";
  route 198.18.10.2/32 via "lo" { bgp_med = 10; bgp_local_pref = 200; bgp_community.add((65000,1)); bgp_large_community.add((65000,1,2)); };
  route 198.18.10.3/32 blackhole;
}
protocol static vol1_v6 {
  ipv6;
  route 2001:2::1/128 via "lo";
}
`;

await writeFile(join(dir, 'injector.conf'), injectorConf);
await writeFile(join(dir, 'peer.conf'), peerConf);
await writeFile(include, routes);

function start(name: string) {
  return spawn(
    'bird',
    ['-f', '-c', join(dir, `${name}.conf`), '-s', join(dir, `${name}.ctl`), '-P', join(dir, `${name}.pid`)],
    {
      stdio: 'inherit',
    },
  );
}

class Session {
  private buf = Buffer.alloc(0);
  readonly socket: Socket;
  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => (this.buf = Buffer.concat([this.buf, d])));
  }
  static async open(path: string): Promise<{ session: Session; banner: Buffer }> {
    for (let i = 0; i < 100; i++) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = createConnection(path, () => resolve(s));
          s.once('error', reject);
        });
        const session = new Session(socket);
        return { session, banner: await session.untilFinal() };
      } catch {
        await sleep(50);
      }
    }
    throw new Error(`cannot connect to ${path}`);
  }
  async untilFinal(): Promise<Buffer> {
    for (;;) {
      const text = this.buf.toString('latin1');
      const m = /(^|\n)\d{4} [^\n]*\n/.exec(text);
      if (m) {
        const end = m.index + m[0].length;
        const reply = this.buf.subarray(0, end);
        this.buf = this.buf.subarray(end);
        return reply;
      }
      await sleep(5);
    }
  }
  async run(command: string): Promise<Buffer> {
    this.socket.write(`${command}\n`);
    return this.untilFinal();
  }
  async drain(ms: number): Promise<Buffer> {
    await sleep(ms);
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    return rest;
  }
  close(): void {
    this.socket.destroy();
  }
}

const injector = start('injector');
const peer = start('peer');
try {
  const { session: a, banner } = await Session.open(join(dir, 'injector.ctl'));
  const { session: b } = await Session.open(join(dir, 'peer.ctl'));
  for (let i = 0; i < 100; i++) {
    if ((await b.run('show protocols injector')).toString().includes('Established')) break;
    await sleep(100);
  }
  await sleep(500);
  const save = (name: string, data: Buffer) => writeFile(join(out, `${name}.txt`), data);
  await save('banner', banner);
  const injectorCommands: [string, string][] = [
    ['show-status', 'show status'],
    ['show-protocols', 'show protocols'],
    ['show-protocols-all', 'show protocols all'],
    ['show-protocols-all-peer1', 'show protocols all peer1'],
    ['show-protocols-vol-pattern', 'show protocols "vol*"'],
    ['show-route', 'show route'],
    ['show-route-all', 'show route all'],
    ['show-route-table-master6', 'show route table master6'],
    ['show-route-protocol-vol1-all', 'show route protocol vol1 all'],
    ['show-route-for', 'show route for 198.18.10.2 all'],
    ['show-route-count', 'show route count'],
    ['show-route-protocol-vol1-count', 'show route protocol vol1 count'],
    ['show-route-not-found', 'show route 198.19.255.1/32'],
    ['show-route-unknown-protocol', 'show route protocol nosuch'],
    ['syntax-error', 'show nonsense'],
    ['configure-check', 'configure check'],
    ['configure', 'configure'],
    ['configure-soft', 'configure soft'],
    ['configure-timeout', 'configure timeout 60'],
    ['configure-status', 'configure status'],
    ['configure-confirm', 'configure confirm'],
    ['configure-undo-nothing', 'configure undo'],
    ['disable', 'disable vol1'],
    ['disable-again', 'disable vol1'],
    ['enable', 'enable vol1'],
    ['enable-again', 'enable vol1'],
    ['restart', 'restart vol1'],
    ['disable-no-match', 'disable "zz*"'],
    ['eval', 'eval 1+2'],
    ['show-symbols', 'show symbols'],
  ];
  for (const [name, command] of injectorCommands) await save(name, await a.run(command));

  await save('echo-all', await a.run('echo all'));
  await a.run('disable vol1_v6');
  await a.run('enable vol1_v6');
  await save('async-lines', await a.drain(300));
  // echo stays on through the configure captures, so they hold `+` lines between replies.

  await writeFile(
    include,
    routes.replace('route 198.18.10.3/32 blackhole;', 'route 198.18.10.3/32 nonsense;'),
  );
  await save('configure-syntax-error', await a.run('configure'));
  await rm(include);
  await save('configure-missing-include', await a.run('configure'));
  await writeFile(include, routes.replace(/protocol static vol1_v6[\s\S]*$/, ''));
  a.socket.write('configure\nconfigure\n');
  await save('configure-in-progress', await a.untilFinal());
  await save('configure-queued', await a.untilFinal());
  await writeFile(include, routes);
  await sleep(300);
  await save('configure-after-queue', await a.run('configure'));
  await a.run('echo off');

  // An operator's syntax error in the main config: every `configure` fails, `disable` still works, and the
  // next `configure` that succeeds restarts the disabled protocol by itself (`enable`: already enabled).
  const mainConf = join(dir, 'injector.conf');
  await writeFile(mainConf, `${injectorConf}protocol bogus {\n`);
  await save('configure-broken-main', await a.run('configure'));
  await save('disable-while-broken', await a.run('disable vol1'));
  await save('show-protocols-vol1-disabled', await a.run('show protocols vol1'));
  await writeFile(mainConf, injectorConf);
  await save('configure-after-disable', await a.run('configure'));
  await save('show-protocols-vol1-after-configure', await a.run('show protocols vol1'));
  await save('enable-after-configure', await a.run('enable vol1'));

  await sleep(1000);
  await save('peer-show-route-all', await b.run('show route all'));
  await save('peer-show-route-table-master6-all', await b.run('show route table master6 all'));
  await save('peer-show-protocols-all-injector', await b.run('show protocols all injector'));
  a.close();
  b.close();
} finally {
  injector.kill('SIGTERM');
  peer.kill('SIGTERM');
  await sleep(200);
  await rm(dir, { recursive: true, force: true });
}

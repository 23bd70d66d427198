// The live part of the demo: one rhi node for real. HAProxy with two backends and real health checks,
// rhi-agent, the node's BIRD and a router BIRD that learns the VIPs over iBGP; then a backend dies and
// comes back, the node is drained and undrained, and HAProxy stops. Everything runs on loopback and
// temp dirs, and is stopped at the end. Run by scripts/demo.sh after the build.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentApp, parseConfig } from '@rhi/agent';
import { freePort, startBackends, startBgpPair, startHaproxy, waitFor } from '@rhi/test-support';
import { pino } from 'pino';

const bold = (s) => `\x1b[1m${s}\x1b[0m`;
const say = (s) => process.stdout.write(`\n${bold(`== ${s}`)}\n`);

const dir = await mkdtemp(join(tmpdir(), 'rhi-demo-'));
const backends = await startBackends(3);
const [a, b, c] = backends.ports;
const haproxy = await startHaproxy({
  sections: `frontend fe_web
    bind 127.0.0.1:${await freePort()}
    default_backend be_app
backend be_app
    option httpchk GET /
    default-server check inter 200 fall 2 rise 2
    server app1 127.0.0.1:${a}
    server app2 127.0.0.1:${b}
backend be_static
    option httpchk GET /
    server static1 127.0.0.1:${c} check inter 200 fall 2 rise 2`,
});
const pair = await startBgpPair({ exports: ['vol1', 'vol2'], includeOnTmpfs: true });
const { node: bird } = pair;
const rules = `# hapee-rhi.cfg syntax, plus rhi's capacity rule
198.18.200.1 = all(b:be_static,b:be_app)
vol2%198.18.200.2 = any(b:be_app>=2, b:be_static)
198.18.200.3 = all(f:fe_web, b:be_app>=100%)
`;
await writeFile(join(dir, 'rules.cfg'), rules);
const config = parseConfig(
  `node: { name: demo-node }
haproxy: { sockets: [${haproxy.adminSocket}], eventRing: events }
bird: { socket: ${bird.socket}, include: ${pair.includePath}, tables: { vol1: {}, vol2: {} } }
rules: { file: ${join(dir, 'rules.cfg')} }
allowlist: [198.18.200.0/24]
damping: { rise: { count: 1, ms: 500 }, fall: { count: 1, ms: 0 }, holdDown: false }
admin: { listen: 127.0.0.1:0, socket: ${join(dir, 'admin.sock')} }
stateDir: ${dir}
`,
  'demo.yaml',
);
const events = [];
const logger = pino({ level: 'info' }, { write: (line) => events.push(JSON.parse(line)) });
const app = await AgentApp.start({ config, logger, version: 'demo' });

const routerRoutes = () => pair.routerRoutes();
const show = async () => {
  const routes = await routerRoutes();
  console.log(`router learns: ${routes.length ? routes.join('  ') : '(nothing)'}`);
  for (const r of app.snapshot().routes)
    console.log(
      `  ${r.table}%${r.prefix.padEnd(17)} ${r.desired ? 'advertised' : 'withdrawn '}  ${r.reason}`,
    );
};
const expect = async (what, want) => {
  const t0 = Date.now();
  await waitFor(
    what,
    async () => (JSON.stringify(await routerRoutes()) === JSON.stringify(want.sort()) ? true : undefined),
    20_000,
  );
  console.log(`(${what}: ${Date.now() - t0} ms)`);
};
const transitions = () => {
  for (const e of events.splice(0)) {
    const shown = ['routeAnnounced', 'routeWithdrawn', 'drained', 'undrained', 'haproxyUnreachable'];
    if (shown.includes(e.event) && e.reason) {
      console.log(`  log: ${e.event}${e.prefix ? ` ${e.prefix}` : ''}: ${e.reason}`);
    }
  }
};

try {
  console.log(`rules file:\n${rules}`);
  say('Everything healthy: the router learns the three VIPs over iBGP');
  await expect('router converged', ['198.18.200.1/32', '198.18.200.2/32', '198.18.200.3/32']);
  await show();
  transitions();
  say('app2 dies (its HTTP server stops): be_app is below 100% and below 2 servers');
  await backends.stop(1);
  await expect('198.18.200.3 withdrawn', ['198.18.200.1/32', '198.18.200.2/32']);
  await show();
  transitions();
  say('static1 dies too: vol2%198.18.200.2 (any) and 198.18.200.1 (all) go');
  await backends.stop(2);
  await expect('everything withdrawn', []);
  await show();
  transitions();
  say('Both come back: the routes return after the 500 ms rise');
  await backends.start(1);
  await backends.start(2);
  await expect('router converged again', ['198.18.200.1/32', '198.18.200.2/32', '198.18.200.3/32']);
  await show();
  transitions();
  say('rhi-agent drain: every route withdrawn while HAProxy keeps serving');
  await app.drain({ reason: 'kernel upgrade' });
  await expect('drained', []);
  transitions();
  await app.undrain();
  await expect('undrained', ['198.18.200.1/32', '198.18.200.2/32', '198.18.200.3/32']);
  transitions();
  say('HAProxy stops: after the 2 s reload grace the node fails closed');
  await haproxy.stop();
  await expect('failed closed', []);
  transitions();
  say('Done. The same agent runs from systemd with `rhi-agent run` (see packages/agent/README.md).');
} finally {
  await app.stop();
  await Promise.allSettled([haproxy.stop(), pair.stop(), backends.close()]);
  await rm(dir, { recursive: true, force: true });
}

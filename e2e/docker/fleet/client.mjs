// The client behind the router: sends one HTTP request at a time to each target VIP (a new connection
// each, so the router's L4 ECMP hash spreads them), counts answers per node (HAProxy's X-Node header) and
// failures, each stamped with the wall clock. GET :9000/counts reads the counts (?since=<epoch ms> counts
// only requests sent since), POST :9000/targets sets the VIPs ({"vips": ["198.18.200.1"]}).
import { createServer, request } from 'node:http';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { URL } from 'node:url';

const intervalMs = Number(process.env.INTERVAL_MS ?? 20);
/** @type {{ at: number, vip: string, node: string | null, error: string | null }[]} */
const results = [];
let vips = (process.env.VIPS ?? '198.18.200.1').split(',');

const once = (vip) =>
  new Promise((resolve) => {
    const at = Date.now();
    const done = (node, error) => {
      results.push({ at, vip, node, error });
      if (results.length > 200_000) results.splice(0, 100_000);
      resolve();
    };
    const req = request({ host: vip, port: 80, path: '/', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.once('end', () =>
        res.statusCode === 200
          ? done(String(res.headers['x-node'] ?? 'unknown'), null)
          : done(String(res.headers['x-node'] ?? 'unknown'), `HTTP ${res.statusCode}`),
      );
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', (e) => done(null, e.message));
    req.end();
  });

const loop = async (vip) => {
  for (;;) {
    if (!vips.includes(vip)) return;
    const started = Date.now();
    await once(vip);
    await sleep(Math.max(0, intervalMs - (Date.now() - started)));
  }
};
const running = new Set();
const follow = () => {
  for (const vip of vips)
    if (!running.has(vip)) {
      running.add(vip);
      void loop(vip).finally(() => running.delete(vip));
    }
};
follow();

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://client');
  if (req.method === 'GET' && url.pathname === '/counts') {
    const since = Number(url.searchParams.get('since') ?? 0);
    const vip = url.searchParams.get('vip');
    const byNode = {};
    const errors = [];
    let sent = 0;
    let failed = 0;
    for (const r of results) {
      if (r.at < since || (vip && r.vip !== vip)) continue;
      sent++;
      if (r.error) {
        failed++;
        if (errors.length < 20) errors.push(r);
      } else byNode[r.node] = (byNode[r.node] ?? 0) + 1;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ sent, failed, byNode, errors }));
  } else if (req.method === 'POST' && url.pathname === '/targets') {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      vips = JSON.parse(body).vips;
      follow();
      res.writeHead(204).end();
    });
  } else res.writeHead(404).end();
}).listen(9000, '0.0.0.0');

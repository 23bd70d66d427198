// The configuration files of the containerised fleet, as an operator would write them. Pure.

/** The fabric (nodes, router, NATS, controller) and the client's network. The host is `.1` of each. */
export const FABRIC = { subnet: '198.18.10.0/24', gateway: '198.18.10.1' } as const;
export const CLIENT_NET = { subnet: '198.18.20.0/24', gateway: '198.18.20.1' } as const;
export const ROUTER_FABRIC_IP = '198.18.10.2';
export const ROUTER_CLIENT_IP = '198.18.20.2';
export const CLIENT_IP = '198.18.20.10';
/** The NATS JetStream cluster: three servers, each stream on all three (R3). */
export const NATS_SERVERS = [
  { name: 'n1', ip: '198.18.10.5' },
  { name: 'n2', ip: '198.18.10.7' },
  { name: 'n3', ip: '198.18.10.8' },
] as const;
const NATS_URLS = NATS_SERVERS.map((s) => `nats://${s.ip}:4222`).join(', ');
/** Two controller replicas: the one holding the lease drives rollouts, either answers the API. */
export const CONTROLLERS = [
  { name: 'controller1', ip: '198.18.10.6' },
  { name: 'controller2', ip: '198.18.10.9' },
] as const;
export const API_PORT = 9190;
/** The replicas' lease: a dead holder is replaced within it. */
export const LEASE_TTL_MS = 3000;
/** The VIPs every node can serve (HAProxy binds them `transparent`, the node routes them to `lo`). */
export const VIP_RANGE = '198.18.200.0/24';
export const VIP1 = '198.18.200.1';
export const VIP2 = '198.18.200.2';
export const VIP3 = '198.18.200.3';
/** BFD: 100 ms × 3, so a dead node leaves the router in about 0.3 s; BGP's hold time is far longer. */
export const BFD = 'min rx interval 100 ms; min tx interval 100 ms; multiplier 3;';
export const HOLD_TIME_S = 90;
export const HEARTBEAT_MS = 1000;
export const RISE_MS = 1000;

export interface FleetNode {
  readonly name: string;
  readonly ip: string;
  readonly asn: number;
}

export const NODES: readonly FleetNode[] = [1, 2, 3].map((i) => ({
  name: `lb${i}`,
  ip: `198.18.10.${10 + i}`,
  asn: 65001,
}));

export const haproxyConfig = (node: FleetNode): string => `global
    master-worker
    stats socket /run/haproxy/admin.sock mode 660 level admin expose-fd listeners
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend fe_web
    bind ${VIP1}:80 transparent
    bind ${VIP2}:80 transparent
    bind ${VIP3}:80 transparent
    http-response set-header X-Node ${node.name}
    default_backend be_app
backend be_app
    option httpchk GET /health
    server s1 127.0.0.1:8081 check inter 100 fall 2 rise 2
`;

export const nodeBirdConfig = (node: FleetNode): string => `log "/var/log/e2e/bird.log" all;
router id ${node.ip};
protocol device { }
include "/run/rhi/rhi-routes.conf";
protocol bfd { interface "*" { ${BFD} }; }
protocol bgp upstream1 {
  local ${node.ip} as ${node.asn};
  neighbor ${ROUTER_FABRIC_IP} as 65000;
  bfd on;
  connect delay time 1; connect retry time 1; hold time ${HOLD_TIME_S};
  ipv4 {
    import none;
    export filter {
      if proto = "vol1" then {
        if defined(bgp_med) then bgp_med = bgp_med;
        accept;
      }
      reject;
    };
  };
}
`;

/** The router: eBGP with BFD to every node, ECMP into its kernel, each route change logged with µs. */
export const routerBirdConfig = (nodes: readonly FleetNode[]): string => `log "/var/log/e2e/bird.log" all;
timeformat log "%s.%6f";
router id ${ROUTER_FABRIC_IP};
protocol device { }
protocol kernel { ipv4 { import none; export all; }; merge paths on; }
protocol bfd { interface "*" { ${BFD} }; }
template bgp lb {
  local ${ROUTER_FABRIC_IP} as 65000;
  bfd on;
  connect delay time 1; connect retry time 1; hold time ${HOLD_TIME_S};
  debug { routes };
  ipv4 { import all; export none; };
}
${nodes.map((n) => `protocol bgp ${n.name} from lb { neighbor ${n.ip} as ${n.asn}; }`).join('\n')}
`;

export const agentConfig = (node: FleetNode): string => `node: { name: ${node.name}, labels: { site: e2e } }
haproxy: { sockets: [/run/haproxy/admin.sock], pollIntervalMs: 100 }
bird: { socket: /run/bird/bird.ctl, include: /run/rhi/rhi-routes.conf, config: /etc/bird/bird.conf, tables: { vol1: {} } }
rules: { file: /etc/rhi/rules.cfg, fromController: true, trustedKeys: { ${SIGNING_KEY_ID}: /etc/rhi/keys/${SIGNING_KEY_ID}.pub } }
allowlist: [${VIP_RANGE}]
damping: { rise: { count: 1, ms: ${RISE_MS} } }
nats: { servers: [${NATS_URLS}], nkeyFile: /etc/rhi/nats.nk, heartbeatMs: ${HEARTBEAT_MS} }
admin: { socket: /run/rhi/admin.sock }
stateDir: /var/lib/rhi-agent
`;

/** The name the agents trust the controller's rule-set signing key by. */
export const SIGNING_KEY_ID = 'e2e';

/** The rules file every node starts with; the controller's rule sets take over once one is assigned. */
export const RULES = `${VIP1} = all(f:fe_web, b:be_app)\n`;
/** The rule set scenario 4 rolls out: the same, and a second VIP. */
export const RULES_WITH_VIP2 = `${RULES}${VIP2} = all(f:fe_web, b:be_app)\n`;
/** The rule set scenario 10 rolls out: a third VIP. */
export const RULES_WITH_VIP3 = `${RULES_WITH_VIP2}${VIP3} = all(f:fe_web, b:be_app)\n`;

export const controllerConfig = (
  ip: string,
  tokenSha256: string,
): string => `nats: { servers: [${NATS_URLS}], nkeyFile: /etc/rhi/nats/controller.nk, replicas: 3 }
api:
  listen: ${ip}:${API_PORT}
  tokens: [{ name: e2e, role: operator, sha256: ${tokenSha256} }]
rules: { signingKey: /etc/rhi/ruleset-signing.key, keyId: ${SIGNING_KEY_ID} }
fleet: { heartbeatMs: ${HEARTBEAT_MS}, leaseTtlMs: ${LEASE_TTL_MS} }
`;

/** A node's start: its VIPs to lo, the way back to the client, the agent installed as a user installs it. */
export const nodeStart = (node: FleetNode): string => `set -eu
mkdir -p /run/e2e /run/haproxy /run/bird /run/rhi /var/log/e2e /var/lib/rhi-agent
ip route add local ${VIP_RANGE} dev lo
ip route add ${CLIENT_NET.subnet} via ${ROUTER_FABRIC_IP}
/src/packages/agent/packaging/install.sh --node /opt/rhi-node/bin/node > /var/log/e2e/install.log 2>&1
: > /run/rhi/rhi-routes.conf
NODE_NAME=${node.name} setsid /opt/rhi-node/bin/node /e2e/backend.mjs > /var/log/e2e/backend.log 2>&1 &
haproxy -W -D -p /run/haproxy.pid -f /etc/haproxy/haproxy.cfg
bird -c /etc/bird/bird.conf -s /run/bird/bird.ctl -P /run/bird.pid
sh /e2e/start-agent.sh
echo "rhi-e2e ready"
exec sleep infinity
`;

/** Starts the installed agent in the background (also after a test stopped it). */
export const START_AGENT = `setsid rhi-agent run --config /etc/rhi/agent.yaml >> /var/log/e2e/agent.log 2>&1 < /dev/null &
echo $! > /run/e2e/agent.pid
`;

export const routerStart = `set -eu
mkdir -p /var/log/e2e /run/bird
bird -c /etc/bird/bird.conf -s /run/bird/bird.ctl -P /run/bird.pid
echo "rhi-e2e ready"
exec sleep infinity
`;

export const clientStart = `set -eu
mkdir -p /var/log/e2e
ip route add ${VIP_RANGE} via ${ROUTER_CLIENT_IP}
setsid /opt/rhi-node/bin/node /e2e/client.mjs > /var/log/e2e/client.log 2>&1 &
echo "rhi-e2e ready"
exec sleep infinity
`;

export const controllerStart = `set -eu
mkdir -p /var/log/e2e
/src/packages/controller/packaging/install.sh --node /opt/rhi-node/bin/node > /var/log/e2e/install.log 2>&1
setsid rhi-controller run --config /etc/rhi/controller.yaml >> /var/log/e2e/controller.log 2>&1 < /dev/null &
echo "rhi-e2e ready"
exec sleep infinity
`;

export const natsStart = `set -eu
mkdir -p /var/log/e2e /var/lib/nats
setsid nats-server -c /etc/nats/nats-server.conf >> /var/log/e2e/nats.log 2>&1 < /dev/null &
echo "rhi-e2e ready"
exec sleep infinity
`;

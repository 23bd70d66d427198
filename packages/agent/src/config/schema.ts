import { renderableLayout, symbolProblem } from '@rhi/bird-client';
import { parseSocketAddress } from '@rhi/haproxy-client';
import { DEFAULT_LIMITS, DEPTH_CEILING, parse, parsePrefix } from '@rhi/rules-dsl';
import { z } from 'zod';

const token = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 letters, digits, - or _');
const cidr = z.string().transform((value, ctx) => {
  const parsed = parsePrefix(value);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: parsed.message });
    return z.NEVER;
  }
  return parsed.prefix;
});
const address = (family: 'ipv4' | 'ipv6') =>
  z.string().refine(
    (v) => {
      const parsed = parsePrefix(v);
      return !v.includes('/') && parsed.ok && parsed.family === family;
    },
    `expected an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address`,
  );
const path = z.string().min(1, 'expected a path').startsWith('/', 'expected an absolute path');
/**
 * Route tables with their next hops. Each must be a table a rule can name (the rules file's own check:
 * BIRD symbol rules and keywords) whose protocols BIRD can take (`{table}` and `{table}_v6`: at most 64
 * characters, not another table's).
 */
const birdTables = z
  .record(
    z.string(),
    z.strictObject({ gateway: address('ipv4').optional(), gateway6: address('ipv6').optional() }),
  )
  .superRefine((tables, ctx) => {
    const named = new Set<string>();
    for (const name of Object.keys(tables)) {
      const symbol = symbolProblem(name);
      const problem =
        symbol === undefined
          ? parse(`${name}%192.0.2.1/32 = true\n`).diagnostics.find((d) => d.severity === 'error')?.message
          : `table '${name}' ${symbol}`;
      if (problem === undefined) continue;
      named.add(name);
      ctx.addIssue({ code: 'custom', path: [name], message: problem });
    }
    const { refused } = renderableLayout({
      tables: Object.fromEntries(Object.keys(tables).map((name) => [name, {}])),
    });
    for (const r of refused)
      if (!named.has(r.table)) ctx.addIssue({ code: 'custom', path: [r.table], message: r.reason });
  });
/** The port of `<host>:<port>` or `[<addr>]:<port>`, if the text has that shape. */
const portOf = (v: string) => /^(?:[^\s:@]+|\[[0-9a-fA-F:]+\]):(\d+)$/.exec(v)?.[1];
const socketAddress = z.string().superRefine((v, ctx) => {
  if (!(v.startsWith('/') || /^ipv4@[^:]+:\d+$/.test(v) || /^ipv6@\[[0-9a-fA-F:]+\]:\d+$/.test(v))) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected a unix socket path, ipv4@<host>:<port> or ipv6@[<addr>]:<port>',
    });
    return;
  }
  // haproxy-client's own parser decides, so that what passes here is what the agent can connect to.
  try {
    parseSocketAddress(v);
  } catch {
    const port = Number(/:(\d+)$/.exec(v)?.[1]);
    ctx.addIssue({
      code: 'custom',
      message: port >= 1 && port <= 65535 ? 'not a stats socket address' : 'expected a port from 1 to 65535',
    });
  }
});
/** A file mode as chmod takes it: '0660', or unquoted 0660 or 660 (YAML reads 0660 as the number 660). */
const fileMode = z.union([z.string(), z.number().int()]).transform((value, ctx) => {
  const text = String(value);
  if (!/^0?[0-7]{3}$/.test(text)) {
    ctx.addIssue({ code: 'custom', message: "expected a file mode such as '0660'" });
    return z.NEVER;
  }
  return Number.parseInt(text, 8);
});
const ms = (min: number, max: number) => z.number().int().min(min).max(max);
/** The largest `rules.limits.maxBytes`: the worker reads the text whole, as one string. */
const MAX_RULE_SET_BYTES = 64 * 1024 * 1024;
/**
 * The least heap of the rule-set worker for texts of up to `maxBytes`: the text is one string of up to
 * twice its bytes (UTF-16), and V8 aborts the whole process, not just the worker, when one allocation
 * alone does not fit under the worker's limit (a 60 MB text under 32 MB did); growth by many small
 * allocations ends only the worker (`RULESET_WORKER_OUT_OF_MEMORY`).
 */
const minWorkerHeapMb = (maxBytes: number): number => Math.ceil((4 * maxBytes) / 2 ** 20) + 32;
/** Readings and time before a change; a field left out keeps its default (`rise: { count: 3 }` keeps 1000 ms). */
const threshold = (defaults: { count: number; ms: number }) =>
  z
    .strictObject({
      count: z.number().int().min(1).default(defaults.count),
      ms: ms(0, 600_000).default(defaults.ms),
    })
    .default(defaults);

/** The agent's configuration file (YAML), validated. Every field has a documented default where one is safe. */
export const AgentConfigSchema = z.strictObject({
  node: z.strictObject({
    /** Node name: the NATS subject token and the controller's key. */
    name: token,
    labels: z.record(token, token).default({}),
  }),
  haproxy: z
    .strictObject({
      /** The stats socket (level operator at least for the event ring). One per agent: HAProxy 2.5+ has no nbproc. */
      sockets: z
        .array(socketAddress)
        .min(1)
        .max(1, 'one stats socket per agent (HAProxy 2.5 and later have no nbproc)'),
      /**
       * Time between reads. Default 250 ms, or 2000 ms with `eventRing`: the ring brings changes at once,
       * and polling is only the safety net (each read costs CPU; see the README's resource benchmark).
       */
      pollIntervalMs: ms(10, 60_000).optional(),
      /** A `ring` section with server and frontend state events, followed with `show events <ring> -w`. */
      eventRing: z
        .string()
        .regex(/^[A-Za-z0-9_.:-]+$/)
        .optional(),
      /** How long a failing read during a reload is retried before HAProxy counts as unreachable. */
      reloadGraceMs: ms(0, 60_000).default(2000),
      timeoutMs: ms(10, 60_000).default(1000),
    })
    .transform((h) => ({ ...h, pollIntervalMs: h.pollIntervalMs ?? (h.eventRing ? 2000 : 250) })),
  bird: z.strictObject({
    dialect: z.enum(['bird2', 'bird1']).default('bird2'),
    /** BIRD 2: one control socket. BIRD 1.6: the IPv4 daemon's socket (`socket6` for bird6). */
    socket: path,
    socket6: path.optional(),
    /** The include file rhi owns; the operator's BIRD config must `include` it. */
    include: path,
    /** BIRD's main config file, read by `rhi-agent check` to verify it includes our file and exports our routes. */
    config: path.default('/etc/bird/bird.conf'),
    /**
     * Route tables: next hop per table. A table the rules use but this does not list gets the injector's
     * default next hop (`via "lo"`): listing one is only needed for a gateway.
     */
    tables: birdTables.default({}),
    reconcileIntervalMs: ms(1000, 3_600_000).default(30_000),
    /**
     * How long BIRD may stay silent (its greeting, a reply to a read) before it counts as unreachable: a
     * hung BIRD is told within this. `configure`, which BIRD answers only once it has parsed its whole
     * configuration, is allowed 5 s.
     */
    timeoutMs: ms(100, 60_000).default(1000),
    /**
     * How often BIRD is asked which routing protocols send our routes (also ~250 ms after each change it
     * took); 0: after changes only.
     */
    exportCheckIntervalMs: ms(0, 3_600_000).default(10_000),
  }),
  rules: z
    .strictObject({
      /** A rules file (an existing hapee-rhi.cfg works unchanged). */
      file: path.optional(),
      /** Accept signed rule sets pushed by the controller. */
      fromController: z.boolean().default(false),
      /** Public keys (PEM files) whose signatures are trusted, by key id. */
      trustedKeys: z.record(z.string().min(1), path).default({}),
      /** Accept rule sets naming proxies the live HAProxy does not know (they count as down). */
      allowUnknownProxies: z.boolean().default(false),
      /**
       * Accept a rule set with no rule (an empty or comment-only file, or such a push): it withdraws every
       * route. Refused by default (`RULESET_EMPTY`): `rhi-agent drain` is the tool for withdrawing all.
       */
      allowEmpty: z.boolean().default(false),
      /**
       * A change to the rules file is taken once the file has stayed the same (inode, size, mtime and
       * content) this long, so that one truncated and written again (`cp`, `cat >`, scp) is never read
       * half-written; a new file renamed into place is taken at once.
       */
      settleMs: ms(0, 600_000).default(2000),
      /**
       * The largest rule set taken, from the file or the controller (whose limits apply to its canonical
       * text); a larger one is refused (`RULESET_OVER_LIMIT`, naming the limit and the place) and the last
       * good one stays. The defaults are rules-dsl's, which a large real fleet fits in: 10,000 rules of
       * two routes each, in 0.6 MB.
       */
      limits: z
        .strictObject({
          /** Bytes (UTF-8) of the rules file; a larger one is not read past this. */
          maxBytes: z.number().int().min(1024).max(MAX_RULE_SET_BYTES).default(DEFAULT_LIMITS.maxBytes),
          /** Rules, valid or not. */
          maxRules: z.number().int().min(1).max(1_000_000).default(DEFAULT_LIMITS.maxRules),
          /** Routes (networks) of all rules together. */
          maxRoutes: z.number().int().min(1).max(2_000_000).default(DEFAULT_LIMITS.maxRoutes),
          /** Terms of one rule: proxies, constants and aggregators. */
          maxTerms: z.number().int().min(1).max(100_000).default(DEFAULT_LIMITS.maxTermsPerRule),
          /** Nesting of aggregators. */
          maxDepth: z.number().int().min(1).max(DEPTH_CEILING).default(DEFAULT_LIMITS.maxDepth),
        })
        .default({
          maxBytes: DEFAULT_LIMITS.maxBytes,
          maxRules: DEFAULT_LIMITS.maxRules,
          maxRoutes: DEFAULT_LIMITS.maxRoutes,
          maxTerms: DEFAULT_LIMITS.maxTermsPerRule,
          maxDepth: DEFAULT_LIMITS.maxDepth,
        }),
      /**
       * The worker thread that parses and checks a new rule set, so that the failover path never waits
       * for it. A worker that takes longer than `timeoutMs`, needs more heap than `maxHeapMb` or crashes is
       * ended (`RULESET_WORKER_TIMEOUT`, `RULESET_WORKER_OUT_OF_MEMORY`, `RULESET_WORKER_FAILED`): the rule
       * set is refused, the last good one stays, and the next rule set gets a new worker. It is started
       * by the first rule set and ended after `idleMs` without one (0: never), giving its memory back.
       */
      worker: z
        .strictObject({
          timeoutMs: ms(1, 600_000).default(10_000),
          maxHeapMb: z.number().int().min(32).max(4096).default(256),
          idleMs: ms(0, 86_400_000).default(10_000),
          /** Smaller rule sets (lines of a file, rules of a push) are examined on the main thread. */
          minRules: z.number().int().min(0).max(10_000).default(200),
        })
        .default({ timeoutMs: 10_000, maxHeapMb: 256, idleMs: 10_000, minRules: 200 }),
    })
    .refine((r) => r.file !== undefined || r.fromController, {
      message: 'give a rules file, or set fromController: true',
    })
    .refine((r) => !r.fromController || Object.keys(r.trustedKeys).length > 0, {
      message: 'fromController needs at least one trusted key',
      path: ['trustedKeys'],
    })
    .superRefine((r, ctx) => {
      const least = minWorkerHeapMb(r.limits.maxBytes);
      if (r.worker.maxHeapMb < least)
        ctx.addIssue({
          code: 'custom',
          path: ['worker', 'maxHeapMb'],
          message: `must be at least ${least} for rules.limits.maxBytes ${r.limits.maxBytes} (4 times it, in MiB, + 32)`,
        });
    }),
  /** The only networks this node may advertise, whatever a rule set says. Required: list 0.0.0.0/0 to allow all. */
  allowlist: z.array(cidr).min(1, 'list at least one network (0.0.0.0/0 and ::/0 allow everything)'),
  damping: z
    .strictObject({
      rise: threshold({ count: 1, ms: 1000 }),
      fall: threshold({ count: 1, ms: 0 }),
      holdDown: z
        .union([
          z.literal(false),
          z.strictObject({
            flaps: z.number().int().min(1),
            windowMs: ms(1, 86_400_000),
            holdMs: ms(1, 86_400_000),
          }),
        ])
        .default({ flaps: 3, windowMs: 60_000, holdMs: 30_000 }),
    })
    .default({
      rise: { count: 1, ms: 1000 },
      fall: { count: 1, ms: 0 },
      holdDown: { flaps: 3, windowMs: 60_000, holdMs: 30_000 },
    }),
  policies: z
    .strictObject({
      /** Withdraw this node's routes on a clean stop (SIGTERM) before exiting. */
      withdrawOnStop: z.boolean().default(true),
    })
    .default({ withdrawOnStop: true }),
  nats: z
    .strictObject({
      servers: z
        .array(z.string().regex(/^(nats|tls):\/\/[^\s]+$/, 'expected nats://host:port or tls://host:port'))
        .min(1),
      /** A NATS credentials file (JWT + nkey seed). */
      credentials: path.optional(),
      /**
       * A file holding this node's nkey seed (`SU...`), as `rhi-controller nats add-node` writes it: the
       * user the server knows by its public key, allowed only this node's subjects.
       */
      nkeyFile: path.optional(),
      user: z.string().optional(),
      password: z.string().optional(),
      token: z.string().optional(),
      tls: z.strictObject({ ca: path.optional(), cert: path.optional(), key: path.optional() }).optional(),
      heartbeatMs: ms(1000, 600_000).default(5000),
      /**
       * With `rules.fromController`: how often the rule set assigned to this node in JetStream is read,
       * besides at every (re)connect and at once when a new assignment is written.
       */
      assignmentPollMs: ms(1000, 3_600_000).default(60_000),
    })
    .refine((n) => n.credentials || n.nkeyFile || n.user || n.token, {
      message: 'NATS must be authenticated: give nkeyFile, credentials, user/password or token',
    })
    .optional(),
  admin: z
    .strictObject({
      /** `GET /metrics`, `/status`, `/healthz`, open to whoever reaches it: keep it on loopback. */
      listen: z
        .string()
        .regex(/^[^\s:]+:\d+$|^\[[0-9a-fA-F:]+\]:\d+$/, 'expected <host>:<port>')
        .refine((v) => Number(portOf(v) ?? 0) <= 65535, 'expected a port from 0 to 65535')
        .default('127.0.0.1:9180'),
      /**
       * The control socket: the reads and `POST /drain`, `/undrain` (`rhi-agent drain|undrain`), which TCP
       * refuses. Who may connect is decided by its mode and group, as for HAProxy's stats socket.
       */
      socket: path
        .refine(
          (p) => Buffer.byteLength(p) <= 100,
          'expected at most 100 bytes (unix socket paths are short)',
        )
        .default('/run/rhi/admin.sock'),
      socketMode: fileMode
        .refine(
          (m) => (m & 0o002) === 0,
          'lets every local user drain this node: drop the write bit for others',
        )
        .default(0o660),
      /** The socket's group (name or number); default the agent's own group (`rhi` under the systemd unit). */
      socketGroup: z
        .union([
          z.string().regex(/^([A-Za-z_][A-Za-z0-9_.-]*\$?|\d+)$/, 'expected a group name or number'),
          z.number().int().min(0),
        ])
        .optional(),
    })
    .default({ listen: '127.0.0.1:9180', socket: '/run/rhi/admin.sock', socketMode: 0o660 }),
  /** Where the drain state and the last good rule set are kept. */
  stateDir: path.default('/var/lib/rhi'),
});

/** The validated agent configuration, with defaults filled in. */
export type AgentConfig = z.infer<typeof AgentConfigSchema>;

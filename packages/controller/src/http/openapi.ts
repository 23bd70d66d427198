/** The API's OpenAPI 3.1 document (served at /api/v1/openapi.json). */
export function openApiDocument(version: string): object {
  const error = { $ref: '#/components/schemas/Error' };
  const read = (summary: string, extra: object = {}) => ({
    summary,
    security: [{ bearer: [] }],
    responses: {
      '200': { description: 'the current view (with `stale: false`)' },
      '401': {
        description: 'no or unknown bearer token',
        content: { 'application/json': { schema: error } },
      },
      '503': {
        description: 'NATS is unreachable: the last view, read-only, with `stale: true` and the reason',
      },
    },
    ...extra,
  });
  const json = { 'application/json': { schema: error } };
  const write = (summary: string, body: object, responses: Record<string, object>) => ({
    summary,
    security: [{ bearer: [] }],
    requestBody: { required: true, content: { 'application/json': { schema: body } } },
    responses: {
      '400': { description: 'a malformed body: error.field names the field', content: json },
      '401': { description: 'no or unknown bearer token', content: json },
      '403': { description: "FORBIDDEN: the token is a viewer's", content: json },
      '503': { description: 'NATS_UNAVAILABLE: rule sets live in JetStream', content: json },
      ...responses,
    },
  });
  const param = (
    name: string,
    where: 'path' | 'query',
    description: string,
    required = where === 'path',
  ) => ({
    name,
    in: where,
    required,
    description,
    schema: { type: 'string' },
  });
  return {
    openapi: '3.1.0',
    info: { title: 'rhi-controller API', version },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        NodeDetail: {
          type: 'object',
          required: ['node', 'status', 'health', 'ruleSet', 'stale', 'generatedAt'],
          properties: {
            node: { type: 'object', description: 'the summary, as in /api/v1/nodes' },
            ruleSet: {
              description:
                "the node's rule sets as Envoy's CSDS shows a client's: synced (it runs its assignment), pending, error (it rejected its assignment: never counted as applied; it keeps running `active`, its last good), unassigned; null when the controller keeps no rule sets",
              oneOf: [
                {
                  type: 'object',
                  required: ['sync', 'assigned', 'active', 'error'],
                  properties: {
                    sync: { enum: ['synced', 'pending', 'error', 'unassigned'] },
                    assigned: {
                      description: 'assign.<node> in the rule-set bucket, or null',
                      type: ['object', 'null'],
                      properties: {
                        serial: { type: 'integer', minimum: 1 },
                        hash: { type: 'string' },
                        rollout: { type: ['string', 'null'] },
                      },
                    },
                    active: {
                      description: 'what its last status says it runs, or null',
                      type: ['object', 'null'],
                      properties: { serial: { type: 'integer', minimum: 0 }, hash: { type: 'string' } },
                    },
                    error: {
                      description:
                        'its rejection of the assigned serial (its ack on rhi.v1.ack.<node>), or null',
                      type: ['object', 'null'],
                      properties: {
                        serial: { type: 'integer', minimum: 1 },
                        hash: { type: 'string' },
                        code: { type: ['string', 'null'] },
                        reason: { type: 'string' },
                        at: { type: 'string', format: 'date-time' },
                      },
                    },
                  },
                },
                { type: 'null' },
              ],
            },
            status: { type: 'object', description: 'the last NodeStatus (rhi.v1.status) the node published' },
            health: {
              description:
                "the node's last HealthReport (rhi.v1.health: per frontend/backend up, servers usable of total), or null before its first",
              oneOf: [
                {
                  type: 'object',
                  required: [
                    'schema',
                    'node',
                    'time',
                    'seq',
                    'reachable',
                    'frontends',
                    'backends',
                    'omitted',
                  ],
                  properties: {
                    schema: { const: 'rhi.v1.health' },
                    node: { type: 'string' },
                    time: { type: 'string', format: 'date-time' },
                    seq: { type: 'integer', minimum: 0 },
                    reachable: { type: 'boolean' },
                    pid: { type: 'integer' },
                    frontends: {
                      type: 'object',
                      additionalProperties: {
                        type: 'object',
                        required: ['up'],
                        properties: { up: { type: 'boolean' } },
                      },
                    },
                    backends: {
                      type: 'object',
                      additionalProperties: {
                        type: 'object',
                        required: ['up', 'serversUp', 'serversTotal'],
                        properties: {
                          up: { type: 'boolean' },
                          serversUp: { type: 'integer', minimum: 0 },
                          serversTotal: { type: 'integer', minimum: 0 },
                        },
                      },
                    },
                    omitted: {
                      type: 'object',
                      required: ['frontends', 'backends'],
                      properties: {
                        frontends: { type: 'integer', minimum: 0 },
                        backends: { type: 'integer', minimum: 0 },
                      },
                    },
                  },
                },
                { type: 'null' },
              ],
            },
            stale: { type: 'boolean' },
            generatedAt: { type: 'string', format: 'date-time' },
          },
        },
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string' },
                message: { type: 'string' },
                field: { type: 'string' },
              },
            },
          },
        },
      },
    },
    paths: {
      '/api/v1/vips': { get: read('every VIP: advertisers against the minimum, nodes per state') },
      '/api/v1/vips/{id}': {
        get: read('one VIP: every node with a rule for it, its state and why', {
          parameters: [
            param('id', 'path', 'the route id, table%prefix, URL-encoded (vol1%25198.18.200.1%2F32)'),
          ],
        }),
      },
      '/api/v1/whoami': { get: read('who the bearer token is: its name and role (viewer or operator)') },
      '/api/v1/matrix': {
        get: read(
          'the VIP x node matrix: every VIP row with one letter per node column (the letters: MATRIX_CELLS in @rhi/contracts; the dashboard draws it)',
          { parameters: [param('nodes', 'query', 'only these node columns, comma-separated')] },
        ),
      },
      '/api/v1/nodes': { get: read('every node: liveness, versions, rule set, drain, daemons') },
      '/api/v1/nodes/{name}': {
        get: read('one node: its summary, its last status, its last health report and its rule-set state', {
          parameters: [param('name', 'path', 'node name')],
          responses: {
            ...read('').responses,
            '200': {
              description: 'the node (with `stale: false`)',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/NodeDetail' } } },
            },
          },
        }),
      },
      '/api/v1/alerts': { get: read('the open alerts, each with its kind, subject, message and since') },
      '/api/v1/events': {
        get: read('the event timeline, oldest first', {
          parameters: [
            param('node', 'query', 'only this node'),
            param('vip', 'query', 'only this route id (table%prefix)'),
            param('since', 'query', 'ISO time or epoch ms'),
            param('until', 'query', 'ISO time or epoch ms'),
            param('limit', 'query', 'at most this many (1-10000, default 1000)'),
          ],
        }),
      },
      '/api/v1/stream': {
        get: read(
          "server-sent events of view changes (node, alertOpened, alertClosed, rollout: a rollout's progress as counts per step, each time its record moves); resumable with Last-Event-ID",
        ),
      },
      '/api/v1/rulesets': {
        get: {
          ...read('the stored rule sets, newest first: serial, hash, author, message, time, target'),
          parameters: [
            param('limit', 'query', 'at most this many (1-1000, default 50)'),
            param('before', 'query', 'only serials below this one (the next page)'),
          ],
        },
        post: write(
          'lint a rule set and store it, signed, at the next serial (operator); it reaches no node until a rollout assigns it',
          {
            type: 'object',
            required: ['source', 'message'],
            properties: {
              source: {
                type: 'string',
                description: 'the rules text, as rhi-rules lint reads it (at most 4 MiB)',
              },
              message: { type: 'string', description: 'why: kept in the history (1-1024 characters)' },
              target: {
                type: 'string',
                description: '`all` (default) or a label selector, e.g. site=par1,role=edge',
              },
              file: { type: 'string', description: 'the name diagnostics give (default rules)' },
            },
          },
          {
            '201': { description: '{ ruleset: the stored summary, warnings: diagnostics }' },
            '409': {
              description: 'RULESETS_NOT_CONFIGURED: the controller has no rules.signingKey',
              content: json,
            },
            '413': {
              description: "RULESET_TOO_LARGE_FOR_NATS: above the NATS servers' max_payload",
              content: json,
            },
            '422': {
              description:
                'RULESET_INVALID or RULESET_EMPTY: error.diagnostics lists each with file, line, column, code, message; error.text as rhi-rules lint prints it',
              content: json,
            },
          },
        ),
      },
      '/api/v1/rulesets/{serial}': {
        get: {
          ...read('one stored rule set: its summary and its text as uploaded'),
          parameters: [param('serial', 'path', 'the serial')],
        },
      },
      '/api/v1/whatif': {
        post: write(
          "simulate a rule set (a text, or a stored serial) against every targeted node's last HAProxy health: routes added and withdrawn per VIP and node, advertisers before and after, unknown proxies, and the guard's verdict (any token: it changes nothing)",
          {
            oneOf: [
              {
                type: 'object',
                required: ['source'],
                properties: {
                  source: { type: 'string' },
                  file: { type: 'string' },
                  target: { type: 'string' },
                },
              },
              {
                type: 'object',
                required: ['serial'],
                properties: { serial: { type: 'integer', minimum: 1 }, target: { type: 'string' } },
              },
            ],
          },
          {
            '200': {
              description:
                '{ serial, hash, target, whatIf: { vips, nodes, unknown, counts }, guard: { allowed, blockers, warnings } }',
            },
            '404': { description: 'RULESET_NOT_FOUND: no such serial', content: json },
            '422': { description: 'RULESET_INVALID or RULESET_EMPTY, with the diagnostics', content: json },
          },
        ),
      },
      '/api/v1/rollouts': {
        get: {
          ...read('the rollout under way (`active`, or null) and the newest rollouts, newest first'),
          parameters: [param('limit', 'query', 'at most this many (1-1000, default 20)')],
        },
        post: write(
          "start a staged rollout of a stored serial (operator): judged by the what-if and the guard (a blocked one changes nothing unless forced with a reason, which is recorded), steps planned over the targeted nodes up (canary, then batches), each gated on every node's ack, the soak and the fleet's health; stopped and rolled back to the last good rule set (re-issued at a fresh serial) on a rejection, a missing ack, a VIP losing advertisers, a new alert or the progress deadline. One rollout at a time. With `rollback: true`, a copy of `serial` is rolled out with no canary and no soak unless the strategy says otherwise",
          {
            type: 'object',
            required: ['serial'],
            properties: {
              serial: { type: 'integer', minimum: 1 },
              target: {
                type: 'string',
                description: "`all` or a label selector; default the rule set's own target",
              },
              strategy: {
                type: 'object',
                description:
                  'canary ({count} | {percent} | {selector} | null; default {count: 1}), batch ({size} | {percent}; default {percent: 25}), soakMs (default 120000), ackTimeoutMs (default 120000), progressDeadlineMs (default 600000; null: off)',
              },
              message: { type: 'string' },
              force: {
                type: 'string',
                description: 'go past the guard: the reason, recorded in the timeline',
              },
              rollback: { type: 'boolean' },
              id: { type: 'string', description: 'default s<serial>-<time>' },
            },
          },
          {
            '201': {
              description:
                '{ rollout: the stored record (status, steps, outbox...), skipped: targeted nodes lost (left out), guard, counts }',
            },
            '404': { description: 'RULESET_NOT_FOUND: no such serial', content: json },
            '409': {
              description:
                'ROLLOUT_BUSY or ROLLOUT_ACTIVE: another rollout is under way; ROLLOUT_BLOCKED: the guard blocks it (error.whatIf has the what-if and the blockers); ROLLOUT_EXISTS: the id is taken',
              content: json,
            },
            '422': {
              description: 'ROLLOUT_NO_NODES: the target or the canary selector matches no node up',
              content: json,
            },
          },
        ),
      },
      '/api/v1/rollouts/{id}': {
        get: {
          ...read(
            'one rollout: status, steps (nodes, assignedAt, applied, soakUntil), rejections, stop, rollback, failure',
          ),
          parameters: [param('id', 'path', 'the rollout id')],
        },
      },
      '/api/v1/rollouts/{id}/rollback': {
        post: {
          ...write(
            "roll every node that got the rollout's rule set back to serial `to`'s rules (operator): a copy is stored at a fresh serial (agents refuse a lower one) and assigned at once, no gates; a rollout still moving is stopped first; in the timeline with who did it",
            {
              type: 'object',
              required: ['to', 'reason'],
              properties: { to: { type: 'integer', minimum: 1 }, reason: { type: 'string' } },
            },
            {
              '200': { description: '{ rollout: the record after the command }' },
              '404': { description: 'ROLLOUT_NOT_FOUND or RULESET_NOT_FOUND', content: json },
              '409': {
                description:
                  'ROLLOUT_NOTHING_ASSIGNED: it assigned nothing (abort it instead); ROLLOUT_BUSY or ROLLOUT_ACTIVE: another rollout is under way',
                content: json,
              },
            },
          ),
          parameters: [param('id', 'path', 'the rollout id')],
        },
      },
      ...Object.fromEntries(
        (
          [
            [
              'pause',
              'pause a running rollout: deadlines stand still, no step is assigned',
              { reason: { type: 'string' } },
              [],
            ],
            ['resume', 'resume a paused rollout, its deadlines moved on by the time paused', {}, []],
            [
              'abort',
              'stop a rollout and roll every node that got its rule set back to the last good one',
              { reason: { type: 'string' } },
              ['reason'],
            ],
          ] as const
        ).map(([name, summary, properties, required]) => [
          `/api/v1/rollouts/{id}/${name}`,
          {
            post: {
              ...write(
                `${summary} (operator); in the timeline with who did it`,
                { type: 'object', required, properties },
                {
                  '200': { description: '{ rollout: the record after the command }' },
                  '404': { description: 'ROLLOUT_NOT_FOUND', content: json },
                  '409': {
                    description:
                      'ROLLOUT_NOT_RUNNING, ROLLOUT_NOT_PAUSED or ROLLOUT_FINISHED: not in a state for it',
                    content: json,
                  },
                },
              ),
              parameters: [param('id', 'path', 'the rollout id')],
            },
          },
        ]),
      ),
      ...Object.fromEntries(
        (
          [
            ['/api/v1/nodes/{name}/drain', 'drain one node', false, true],
            ['/api/v1/nodes/{name}/undrain', 'undrain one node', false, false],
            ['/api/v1/drain', 'drain every node a label selector matches', true, true],
            ['/api/v1/undrain', 'undrain every node a label selector matches', true, false],
          ] as const
        ).map(([path, summary, group, isDrain]) => [
          path,
          {
            post: {
              ...write(
                `${summary} (operator)${isDrain ? ': judged by the minimum-advertiser guard first (every VIP the nodes advertise is withdrawn by them); refused, with nothing sent, unless forced with a reason, which is recorded' : ''}; each node's answer given back and the action recorded in the timeline (rhi.v1.events.controller.actions) with who did it`,
                {
                  type: 'object',
                  ...(group ? { required: ['selector'] } : {}),
                  properties: {
                    ...(group
                      ? { selector: { type: 'string', description: 'e.g. site=par1,role=edge' } }
                      : {}),
                    ...(isDrain
                      ? {
                          reason: { type: 'string', description: 'why (shown in the node status)' },
                          force: { type: 'string', description: 'go past the guard: the reason, recorded' },
                          waitSessions: {
                            type: 'integer',
                            minimum: 0,
                            description:
                              "de-prefer the routes first (MED and local-pref worst) and withdraw them once HAProxy's frontend sessions fall to this many",
                          },
                          timeoutSec: {
                            type: 'number',
                            exclusiveMinimum: 0,
                            description: 'with waitSessions: withdraw after this long whatever the sessions',
                          },
                        }
                      : {}),
                  },
                },
                {
                  '200': {
                    description:
                      '{ action: { action, by, time, target, reason, forced, answers: [{ node, result: applied | rejected | noAnswer, reason }] }, guard, whatIf }',
                  },
                  ...(group
                    ? {
                        '422': { description: 'DRAIN_NO_NODES: the selector matches no node', content: json },
                      }
                    : { '404': { description: 'NODE_NOT_FOUND: no such node has reported', content: json } }),
                  ...(isDrain
                    ? {
                        '409': {
                          description:
                            'DRAIN_BLOCKED: a VIP would fall below its minimum (error.guard.blockers, error.whatIf); nothing was sent',
                          content: json,
                        },
                      }
                    : {}),
                },
              ),
              ...(group ? {} : { parameters: [param('name', 'path', 'the node')] }),
            },
          },
        ]),
      ),
      '/metrics': { get: read('Prometheus metrics') },
      '/healthz': { get: { summary: '200 while NATS is reachable, else 503 with the reason', security: [] } },
    },
  };
}

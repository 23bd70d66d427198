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
          required: ['node', 'status', 'health', 'stale', 'generatedAt'],
          properties: {
            node: { type: 'object', description: 'the summary, as in /api/v1/nodes' },
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
      '/api/v1/nodes': { get: read('every node: liveness, versions, rule set, drain, daemons') },
      '/api/v1/nodes/{name}': {
        get: read('one node: its summary, its last status and its last health report', {
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
          'server-sent events of view changes (node, alertOpened, alertClosed); resumable with Last-Event-ID',
        ),
      },
      '/metrics': { get: read('Prometheus metrics') },
      '/healthz': { get: { summary: '200 while NATS is reachable, else 503 with the reason', security: [] } },
    },
  };
}

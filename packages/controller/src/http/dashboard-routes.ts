import type { FastifyInstance } from 'fastify';

/** One file of the page: what `@rhi/dashboard` packs (`dashboardAssets`). */
export interface PageAsset {
  readonly contentType: string;
  readonly etag: string;
  readonly body: string;
}

/**
 * Nothing but this controller's own files: no inline script, no other origin, no framing. The page reads
 * the API with the token its user gives it, sent as a bearer header, never as a cookie.
 */
const POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The dashboard: `/` redirects to `/ui/`, and `/ui/`, `/ui/app.js`, `/ui/app.css` are served from
 * memory. The page itself is public (it holds no data); everything it shows comes from the API behind
 * the caller's token. Each answer carries a strong ETag and `cache-control: no-cache`, so a browser
 * revalidates (304) and never runs a page older than the controller.
 */
export function registerDashboardRoutes(
  app: FastifyInstance,
  assets: Readonly<Record<string, PageAsset>>,
): void {
  app.get('/', async (_request, reply) => reply.redirect('/ui/', 302));
  app.get('/ui', async (_request, reply) => reply.redirect('/ui/', 301));
  for (const [path, asset] of Object.entries(assets)) {
    app.get(path, async (request, reply) => {
      reply
        .header('content-security-policy', POLICY)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-cache')
        .header('etag', asset.etag);
      const match = request.headers['if-none-match'];
      if (match !== undefined && match.split(/\s*,\s*/).includes(asset.etag)) return reply.status(304).send();
      return reply.type(asset.contentType).send(asset.body);
    });
  }
}

import { dashboardAssets } from '@rhi/dashboard';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { registerDashboardRoutes } from '../src/http/dashboard-routes.js';

const app = Fastify();
registerDashboardRoutes(app, dashboardAssets);

describe('the dashboard routes', () => {
  it('serve the built page, its script and its style, with their types, without a token', async () => {
    const page = await app.inject({ method: 'GET', url: '/ui/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<script type="module" src="./app.js">');
    const script = await app.inject({ method: 'GET', url: '/ui/app.js' });
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.body).toContain('/api/v1/matrix');
    const style = await app.inject({ method: 'GET', url: '/ui/app.css' });
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(style.body).toContain('.c-advertised');
  });

  it('send a policy that allows only its own files, and never a framing', async () => {
    const page = await app.inject({ method: 'GET', url: '/ui/' });
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['cache-control']).toBe('no-cache');
  });

  it('answer a revalidation with 304 while the file is the same, and in full once it differs', async () => {
    const first = await app.inject({ method: 'GET', url: '/ui/app.js' });
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    const same = await app.inject({ method: 'GET', url: '/ui/app.js', headers: { 'if-none-match': etag } });
    expect(same.statusCode).toBe(304);
    expect(same.body).toBe('');
    const other = await app.inject({
      method: 'GET',
      url: '/ui/app.js',
      headers: { 'if-none-match': '"old"' },
    });
    expect(other.statusCode).toBe(200);
    expect(other.body.length).toBeGreaterThan(1000);
    expect(String((await app.inject({ method: 'GET', url: '/ui/app.css' })).headers.etag)).not.toBe(etag);
  });

  it('redirect / and /ui to the page', async () => {
    const root = await app.inject({ method: 'GET', url: '/' });
    expect([root.statusCode, root.headers.location]).toEqual([302, '/ui/']);
    const ui = await app.inject({ method: 'GET', url: '/ui' });
    expect([ui.statusCode, ui.headers.location]).toEqual([301, '/ui/']);
  });
});

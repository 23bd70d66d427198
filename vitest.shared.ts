import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ViteUserConfig } from 'vitest/config';

const root = dirname(fileURLToPath(import.meta.url));

type Exports = Record<string, { readonly '@rhi/source'?: string }>;

/**
 * Resolves every `@rhi/<pkg>` import (and subpath, e.g. `@rhi/contracts/fleet`) that its package.json
 * maps under the `@rhi/source` condition to that TypeScript source, so tests never need a build. A
 * package with no such entry (the dashboard, whose export is its built page) resolves as Node does.
 */
export const sourceAliases = readdirSync(join(root, 'packages')).flatMap((name) => {
  const manifest = join(root, 'packages', name, 'package.json');
  const { exports = {} } = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Exports };
  return Object.entries(exports).flatMap(([subpath, entry]) => {
    const source = entry['@rhi/source'];
    if (!source) return [];
    const id = `@rhi/${name}${subpath.slice(1)}`.replace(/[/.]/g, (c) => `\\${c}`);
    return [{ find: new RegExp(`^${id}$`), replacement: join(root, 'packages', name, source) }];
  });
});

/**
 * With RHI_TEST_REPORT_DIR set (scripts/soak-tests.sh sets it), each package's run also writes vitest's
 * `json` report to `<dir>/<package>.json` (e.g. `agent.json` for `@rhi/agent`), next to the usual console
 * output. Unset, the reporters are vitest's defaults. vitest runs in the package's directory (nx runs
 * `npm run test` there), so that directory's package.json names the package.
 */
function reportSettings(): NonNullable<ViteUserConfig['test']> {
  const dir = process.env.RHI_TEST_REPORT_DIR;
  if (!dir) return {};
  const { name } = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { name: string };
  const file = `${name.replace(/^@rhi\//, '').replace(/[^\w.-]+/g, '_')}.json`;
  return { reporters: ['default', ['json', { outputFile: resolve(root, dir, file) }]] };
}

/**
 * The vitest settings every package shares; a package config spreads this and adds its own (a package
 * that sets its own `test` should spread `sharedConfig.test` into it, which carries the soak reports).
 */
export const sharedConfig: ViteUserConfig = {
  resolve: { alias: sourceAliases },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
    testTimeout: 20_000,
    hookTimeout: 30_000,
    ...reportSettings(),
  },
};

/**
 * For `vitest bench`: packages are imported by name and resolve to their built `dist/`, loaded by Node
 * itself (externalized) so that timings are those of production code, not of vitest's module runner.
 */
export const benchConfig: ViteUserConfig = {
  test: {
    include: ['bench/**/*.bench.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
    server: { deps: { external: [/\/dist\//] } },
    testTimeout: 600_000,
  },
};

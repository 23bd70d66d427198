/* global URL, console, Buffer */
// Packs the built page (dist/app.js, src/index.html, src/style.css) into dist/assets.js: a module the
// controller imports, so the page ships inside the controller's one file with no directory to find.
// The stylesheet opens with uPlot's own (the charts' layout), so that the page fetches nothing else.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const here = new URL('..', import.meta.url);
const read = (p) => readFileSync(new URL(p, here), 'utf8');
const require = createRequire(import.meta.url);
const uplot = JSON.parse(readFileSync(require.resolve('uplot/package.json'), 'utf8')).version;
const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8').trim();

const files = [
  ['/ui/', 'text/html; charset=utf-8', read('src/index.html')],
  ['/ui/app.js', 'text/javascript; charset=utf-8', read('dist/app.js')],
  [
    '/ui/app.css',
    'text/css; charset=utf-8',
    `/* uPlot ${uplot} (MIT) */\n${uplotCss}\n${read('src/style.css')}`,
  ],
];

const entries = files.map(([path, contentType, body]) => {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return `  ${JSON.stringify(path)}: { contentType: ${JSON.stringify(contentType)}, etag: ${JSON.stringify(etag)}, body: ${JSON.stringify(body)} },`;
});

const js = `// Made by scripts/pack-assets.mjs from the built page; do not edit.\nexport const dashboardAssets = Object.freeze({\n${entries.join('\n')}\n});\n`;
const dts = `/** One file of the dashboard: its type, its body and a strong ETag of the body. */
export interface DashboardAsset {
  readonly contentType: string;
  readonly etag: string;
  readonly body: string;
}

/** The dashboard's files by the path the controller serves them at: \`/ui/\`, \`/ui/app.js\`, \`/ui/app.css\`. */
export declare const dashboardAssets: Readonly<Record<string, DashboardAsset>>;
`;

for (const [name, text] of [
  ['dist/assets.js', js],
  ['dist/assets.d.ts', dts],
]) {
  const target = new URL(name, here);
  const temp = new URL(`${name}.tmp`, here);
  writeFileSync(temp, text);
  renameSync(temp, target);
}
console.log(`pack-assets: ${files.map(([p, , b]) => `${p} ${Buffer.byteLength(b)} B`).join(', ')}`);

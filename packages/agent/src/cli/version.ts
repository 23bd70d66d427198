// Put in by the one-file bundle's build (rolldown.config.mjs `define`): the bundle reads no package.json.
declare const __RHI_AGENT_VERSION__: string | undefined;

/** The version of package.json, without the bundle: read next to the sources or tsc's output. */
function packageVersion(): string {
  const load = process.getBuiltinModule('node:module').createRequire(import.meta.url);
  return (load('../../package.json') as { version: string }).version;
}

/** The agent's version (package.json's), reported in statuses and by `rhi-agent --version`. */
export const AGENT_VERSION: string =
  typeof __RHI_AGENT_VERSION__ === 'string' ? __RHI_AGENT_VERSION__ : packageVersion();

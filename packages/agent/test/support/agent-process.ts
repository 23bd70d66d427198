import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/rhi-agent.js', import.meta.url));
const unit = fileURLToPath(new URL('../../packaging/rhi-agent.service', import.meta.url));

/**
 * How the systemd unit starts the agent: the Node flags of the bin's `#!/usr/bin/env -S node ...` line
 * and the unit's `Environment=` settings (but its RHI_CONFIG: the benches pass `--config`).
 */
export async function unitLaunch(): Promise<{ nodeArgs: string[]; env: Record<string, string> }> {
  const shebang = /^#!\/usr\/bin\/env -S node(.*)$/m.exec(await readFile(bin, 'utf8'))?.[1] ?? '';
  const env: Record<string, string> = {};
  // One assignment per line, as the unit writes them: `Environment=NAME=value` or, when the value has
  // spaces, `Environment="NAME=value with spaces"` (systemd splits unquoted values at spaces).
  const lines = (await readFile(unit, 'utf8')).matchAll(
    /^Environment=(?:"([A-Z_]+)=([^"]*)"|([A-Z_]+)=(\S*))$/gm,
  );
  for (const [, quotedName, quotedValue, name, value] of lines) {
    const key = quotedName ?? name;
    if (key && key !== 'RHI_CONFIG') env[key] = quotedValue ?? value ?? '';
  }
  return { nodeArgs: shebang.split(/\s+/).filter(Boolean), env };
}

/**
 * The built `rhi-agent run --config <file>`, as the systemd unit runs it (with `extraNodeArgs`, e.g. to
 * profile it); its output is collected.
 */
export async function spawnAgent(
  configFile: string,
  extraNodeArgs: readonly string[] = [],
): Promise<{ agent: ChildProcess; output: () => string }> {
  let output = '';
  const { nodeArgs, env } = await unitLaunch();
  const agent = spawn(process.execPath, [...nodeArgs, ...extraNodeArgs, bin, 'run', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env, RHI_LOG_LEVEL: 'warn' },
  });
  agent.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  agent.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  return { agent, output: () => output };
}

/** SIGTERM (the agent withdraws its routes first), SIGKILL after 10 s. */
export async function stopAgent(agent: ChildProcess): Promise<void> {
  if (agent.exitCode !== null) return;
  const exited = new Promise((r) => agent.once('exit', r));
  agent.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (agent.exitCode === null) agent.kill('SIGKILL');
}

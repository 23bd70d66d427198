import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/rhi-agent.js', import.meta.url));
const unit = fileURLToPath(new URL('../packaging/rhi-agent.service', import.meta.url));

/** The Node options the systemd unit runs the agent with (`Environment=NODE_OPTIONS=...`). */
async function unitNodeOptions(): Promise<string[]> {
  const line = /^Environment=NODE_OPTIONS=(.*)$/m.exec(await readFile(unit, 'utf8'))?.[1];
  return line ? line.split(/\s+/) : [];
}

/** The built `rhi-agent run --config <file>`, as the systemd unit runs it; its output is collected. */
export async function spawnAgent(configFile: string): Promise<{ agent: ChildProcess; output: () => string }> {
  let output = '';
  const agent = spawn(process.execPath, [...(await unitNodeOptions()), bin, 'run', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RHI_LOG_LEVEL: 'warn' },
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

import { spawn } from 'node:child_process';
import { unitLaunch } from '../test/support/agent-process.js';

/**
 * Runs a bench child (`node <script> ...args`) with the systemd unit's Node flags and environment, and
 * `extraNodeArgs` after them: the JSON it printed last. `what` names it in the error when it fails.
 */
export async function runBenchChild<T>(
  script: string,
  args: readonly string[],
  what = 'the child',
  extraNodeArgs: readonly string[] = [],
): Promise<T> {
  const { nodeArgs, env } = await unitLaunch();
  const proc = spawn(process.execPath, [...nodeArgs, ...extraNodeArgs, script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise((resolve) => proc.once('close', resolve));
  if (code !== 0) throw new Error(`${what} exited ${String(code)}:\n${err}`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '') as T;
}

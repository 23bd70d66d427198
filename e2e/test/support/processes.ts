import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The built commands, as `packaging/install.sh` installs them (bin/ loading the one-file bundle). */
export const agentBin = fileURLToPath(new URL('../../../packages/agent/bin/rhi-agent.js', import.meta.url));
export const controllerBin = fileURLToPath(
  new URL('../../../packages/controller/bin/rhi-controller.js', import.meta.url),
);

export const rhictlBin = fileURLToPath(
  new URL('../../../packages/controller/bin/rhictl.js', import.meta.url),
);

/** Whether the agent and the controller are built (nx runs `^build` before the e2e tests). */
export const built =
  existsSync(fileURLToPath(new URL('../../../packages/agent/dist/rhi-agent.mjs', import.meta.url))) &&
  existsSync(fileURLToPath(new URL('../../../packages/controller/dist/main.js', import.meta.url)));

/** A process started by the test, with everything it printed. */
export class Started {
  output = '';
  readonly closed: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (c: Buffer) => (this.output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (this.output += c.toString()));
    this.closed = new Promise((resolve) => child.once('close', (code) => resolve(code)));
  }
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.running) this.child.kill(signal);
    await this.closed;
  }
}

/** `<bin> run --config <config>` under this Node, as the installed command runs it. */
export const startCommand = (bin: string, config: string): Started =>
  new Started(
    spawn(process.execPath, [bin, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] }),
  );

/** Runs one of the built commands to its end (`keygen`, `hash-token`, ...) and returns what it printed. */
export async function runCommand(bin: string, args: readonly string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [bin, ...args]);
  return stdout;
}

/** One pino record a daemon logged (a JSON line with `time`, `msg` and its fields). */
export interface LogRecord {
  readonly time: number;
  readonly event?: string;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

/** The JSON log records in a daemon's output, in order; other lines are skipped. Pure. */
export function logRecords(output: string): LogRecord[] {
  const records: LogRecord[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const value = JSON.parse(line) as unknown;
      if (typeof value === 'object' && value !== null && typeof (value as LogRecord).time === 'number')
        records.push(value as LogRecord);
    } catch {
      // A line cut short by the process being killed.
    }
  }
  return records;
}

import { spawn } from 'node:child_process';

/** How late a process that sleeps 1 ms at a time woke up, over the minutes of one setup. */
export interface MachineJitter {
  readonly samples: number;
  /** Oversleep percentiles in ms: time past the 1 ms asked for. */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /** Wake-ups later than 5 ms, per minute. */
  readonly stallsPerMinute: number;
}

// A process of its own (not a thread of the benchmark), so that it is scheduled like BIRD or HAProxy are.
// It sleeps in Atomics.wait (a futex with a timeout, as a C daemon would) and yields to its event loop
// every 100 sleeps so that SIGTERM, which asks for the summary, gets through; it ends by itself if the
// benchmark is gone (killed or crashed), instead of spinning on as an orphan.
const PROBE = `
const parent = process.ppid;
const cell = new Int32Array(new SharedArrayBuffer(4));
const late = [];
const started = performance.now();
process.on('SIGTERM', () => {
  late.sort((a, b) => a - b);
  const at = (p) => late[Math.min(late.length - 1, Math.floor(p * late.length))] ?? NaN;
  const minutes = (performance.now() - started) / 60000;
  process.stdout.write(JSON.stringify({ samples: late.length, p50: at(0.5), p99: at(0.99), p999: at(0.999),
    max: late.at(-1) ?? NaN, stallsPerMinute: late.filter((x) => x > 5).length / minutes }));
  process.exit(0);
});
const burst = () => {
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    Atomics.wait(cell, 0, 0, 1);
    late.push(performance.now() - t - 1);
  }
  if (process.ppid !== parent) process.exit(0);
  setImmediate(burst);
};
burst();
`;

/**
 * Starts the probe; `stop()` ends it and returns what it saw (again on a second call). On a VM the hypervisor can take a vCPU away
 * for several ms: this shows how often that happened while a setup ran, which is the floor under every
 * latency measured in the same minutes.
 */
export function startMachineJitter(): { stop(): Promise<MachineJitter> } {
  const child = spawn(process.execPath, ['-e', PROBE], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    async stop() {
      child.kill('SIGTERM');
      await exited;
      return JSON.parse(out) as MachineJitter;
    },
  };
}

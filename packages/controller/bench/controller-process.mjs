/* global URL, fetch, process */
// The built rhi-controller, started as users run it, for the benches: its config written, `rhi-controller
// run` spawned (output to <dir>/controller.log), and /healthz answering 200 (it has reached NATS).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '@rhi/test-support';

const here = (f) => fileURLToPath(new URL(f, import.meta.url));

/**
 * Starts the controller on the bench's NATS (`nats`: url, user, password) with one API token (`token`, of
 * `role`) and `fleet.heartbeatMs`; `extraYaml` adds top-level config sections; `nodeArgs` go to node
 * (RHI_BENCH_CONTROLLER_NODE_ARGS). Pushes the child onto `children` before waiting, so the caller's
 * clean-up stops it even when it never gets healthy. Returns the API's base URL and the log file.
 */
export async function startController({
  dir,
  nats,
  token,
  role,
  heartbeatMs,
  extraYaml = '',
  nodeArgs = [],
  children,
}) {
  const port = await freePort();
  const config = join(dir, 'controller.yaml');
  const sha = createHash('sha256').update(token).digest('hex');
  await writeFile(
    config,
    `nats:\n  servers: [${nats.url}]\n  user: ${nats.user}\n  password: ${nats.password}\n` +
      `api:\n  listen: 127.0.0.1:${port}\n  tokens:\n    - { name: bench, role: ${role}, sha256: ${sha} }\n` +
      extraYaml +
      `fleet:\n  heartbeatMs: ${heartbeatMs}\n`,
  );
  const base = `http://127.0.0.1:${port}`;
  const logFile = join(dir, 'controller.log');
  const log = createWriteStream(logFile);
  const controller = spawn(
    process.execPath,
    [...nodeArgs, here('../bin/rhi-controller.js'), 'run', '--config', config],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(controller);
  controller.stdout.pipe(log);
  controller.stderr.pipe(log);
  await waitFor(
    'the controller to reach NATS',
    async () => ((await fetch(`${base}/healthz`).catch(() => null))?.status === 200 ? true : undefined),
    30_000,
  );
  return { controller, base, logFile };
}

import { AsyncLocalStorage } from 'node:async_hooks';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Network } from 'dockerode';
import type { StartedTestContainer } from 'testcontainers';
import { GenericContainer, getContainerRuntimeClient } from 'testcontainers';
import { GiveUp } from '@rhi/test-support';

// No image registry here: testcontainers' reaper and host-finding helper images cannot be pulled. The
// harness cleans up by label instead (here after a run, scripts/setup-docker.sh after a crash).
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';

/** Label on every container and network the e2e harness makes (scripts/setup-docker.sh removes leftovers). */
export const E2E_LABEL = 'rhi.e2e';

/** The repository's root, as seen from the host. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The image scripts/setup-docker.sh builds from e2e/docker/packages.txt (tag: its sha256's first 12 hex). */
export const e2eImage = `rhi-e2e:${createHash('sha256')
  .update(readFileSync(new URL('../../docker/packages.txt', import.meta.url)))
  .digest('hex')
  .slice(0, 12)}`;

/** Why the Docker tier cannot run here, or null when the engine answers and the image exists. */
export async function dockerUnavailable(): Promise<string | null> {
  const run = promisify(execFile);
  try {
    await run('docker', ['info', '--format', '{{.ServerVersion}}']);
  } catch {
    return 'the Docker engine does not answer (scripts/setup.sh starts it)';
  }
  try {
    await run('docker', ['image', 'inspect', e2eImage]);
  } catch {
    return `the image ${e2eImage} is missing (scripts/setup-docker.sh builds it)`;
  }
  return null;
}

/** A bridge network with a fixed IPv4 subnet; the host is its gateway (`.1`). */
export interface FixedNetwork {
  readonly name: string;
  readonly subnet: string;
  readonly gateway: string;
  readonly network: Network;
  remove(): Promise<void>;
}

export async function createNetwork(name: string, subnet: string, gateway: string): Promise<FixedNetwork> {
  const client = await getContainerRuntimeClient();
  const network = await client.network.create({
    Name: name,
    Driver: 'bridge',
    CheckDuplicate: true,
    Labels: { [E2E_LABEL]: 'true' },
    IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: gateway }] },
  });
  return { name, subnet, gateway, network, remove: () => client.network.remove(network) };
}

/** Where a container sits: the first network is its own (`NetworkMode`), the others are connected after. */
export interface Attachment {
  readonly network: FixedNetwork;
  readonly ip: string;
}

/**
 * The public builder has neither static addresses nor sysctls: this one sets both before the container is
 * created and connects its further networks, each with its address, before it starts. PID 1 is Docker's
 * init, which reaps orphans.
 */
export class StaticContainer extends GenericContainer {
  constructor(
    image: string,
    private readonly attachments: readonly Attachment[],
    private readonly sysctls: Record<string, string> = {},
  ) {
    super(image);
    const [first] = attachments;
    if (!first) throw new Error('StaticContainer needs at least one network');
    this.withNetworkMode(first.network.name).withLabels({ [E2E_LABEL]: 'true' });
  }

  protected override async beforeContainerCreated(): Promise<void> {
    const [first] = this.attachments;
    this.hostConfig.Sysctls = { ...this.hostConfig.Sysctls, ...this.sysctls };
    // Docker's tini as PID 1: it reaps the daemons that a test stops (`kill -0` would see zombies).
    this.hostConfig.Init = true;
    this.createOpts.NetworkingConfig = {
      EndpointsConfig: { [first!.network.name]: { IPAMConfig: { IPv4Address: first!.ip } } },
    };
  }

  protected override async containerCreated(containerId: string): Promise<void> {
    for (const { network, ip } of this.attachments.slice(1))
      await network.network.connect({
        Container: containerId,
        EndpointConfig: { IPAMConfig: { IPv4Address: ip } },
      });
  }
}

const scenarioSignal = new AsyncLocalStorage<AbortSignal>();

/**
 * Runs `body` so that, once `signal` aborts (vitest's on a timeout), every fleet action it makes from then
 * on throws `GiveUp` (which `waitFor` does not retry): a timed-out scenario stops touching the containers
 * instead of running on into the next one. The signal follows the body's own async calls only.
 */
export function cancellable<T>(signal: AbortSignal, body: () => Promise<T>): Promise<T> {
  return scenarioSignal.run(signal, body);
}

/** Throws `GiveUp` when the calling scenario's signal has aborted. */
export function throwIfCancelled(): void {
  const signal = scenarioSignal.getStore();
  if (signal?.aborted) throw new GiveUp(`the scenario was cancelled (${String(signal.reason)})`);
}

/** Runs a command in the container; rejects with its output unless it exits 0. */
export async function exec(container: StartedTestContainer, command: string[]): Promise<string> {
  throwIfCancelled();
  const { exitCode, output } = await container.exec(command);
  if (exitCode !== 0)
    throw new Error(`${container.getName()}: ${command.join(' ')} exited ${exitCode}:\n${output}`);
  return output;
}

/** `sh -c` in the container. */
export const sh = (container: StartedTestContainer, script: string) => exec(container, ['sh', '-c', script]);

/** Removes every container and network labelled by the harness (a run that crashed left them). */
export async function removeLeftovers(): Promise<void> {
  const client = await getContainerRuntimeClient();
  const docker = client.container.dockerode;
  const filters = JSON.stringify({ label: [`${E2E_LABEL}=true`] });
  for (const info of await docker.listContainers({ all: true, filters }))
    await docker.getContainer(info.Id).remove({ force: true, v: true });
  for (const info of await docker.listNetworks({ filters })) await docker.getNetwork(info.Id).remove();
}

import type { EventSink, HaproxyClient } from '@rhi/haproxy-client';
import { HaproxyError } from '@rhi/haproxy-client';
import type { AdminProbe, PreflightProblem } from '../app/preflight.js';
import { probeAdmin, problemLine, readRunFiles } from '../app/preflight.js';
import type { AgentConfig } from '../config/schema.js';
import type { CheckItem } from './check.js';

/**
 * The checklist lines of what `run` reads or opens before anything else, from the same code `run` uses
 * (`readRunFiles`, and the admin endpoints opened as `run` opens them): each problem is a failure with
 * the very line `run` prints before it exits with status 2.
 */
export async function preflightChecks(config: AgentConfig): Promise<CheckItem[]> {
  const { files, problems } = await readRunFiles(config);
  let admin: AdminProbe;
  try {
    admin = await probeAdmin(config.admin);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    admin = { problems: [{ code: 'ADMIN_SOCKET_FAILED', path: 'admin', message }], heldByAgent: [] };
  }
  return describePreflight(config, problems, files.trustedKeys.size, admin);
}

/** The preflight's findings as checklist lines. Pure. */
export function describePreflight(
  config: Pick<AgentConfig, 'admin' | 'nats'>,
  files: readonly PreflightProblem[],
  keys: number,
  admin: AdminProbe,
): CheckItem[] {
  const fail = (p: PreflightProblem): CheckItem => ({ verdict: 'fail', what: problemLine(p) });
  const keyProblems = files.filter((p) => p.path.startsWith('rules.trustedKeys.'));
  const natsProblems = files.filter((p) => p.path.startsWith('nats.'));
  const held = (path: string, where: string): CheckItem => ({
    verdict: 'ok',
    what: `${path} ${where} is held by the running rhi-agent (free once it stops)`,
  });
  return [
    ...keyProblems.map(fail),
    ...(keys > 0 && !keyProblems.length
      ? [
          {
            verdict: 'ok' as const,
            what: `rules.trustedKeys: ${keys} ed25519 key${keys === 1 ? '' : 's'} read`,
          },
        ]
      : []),
    ...natsProblems.map(fail),
    ...(config.nats &&
    !natsProblems.length &&
    (config.nats.credentials || config.nats.nkeyFile || config.nats.tls)
      ? [{ verdict: 'ok' as const, what: 'nats: the credentials and TLS files can be read' }]
      : []),
    ...admin.problems.map(fail),
    ...(admin.heldByAgent.includes('admin.listen')
      ? [held('admin.listen', config.admin.listen)]
      : admin.problems.some((p) => p.path === 'admin.listen')
        ? []
        : [{ verdict: 'ok' as const, what: `admin.listen ${config.admin.listen} can be listened on` }]),
    ...(admin.heldByAgent.includes('admin.socket')
      ? [held('admin.socket', config.admin.socket)]
      : admin.problems.some((p) => p.path.startsWith('admin.socket'))
        ? []
        : [
            {
              verdict: 'ok' as const,
              what: `admin.socket ${config.admin.socket} can be created with its mode and group`,
            },
          ]),
  ];
}

/** What following `haproxy.eventRing` as `run` does gave, and HAProxy's sinks when it was refused. */
export type EventRingTrial =
  | { readonly following: true }
  | { readonly following: false; readonly error: Error; readonly sinks?: readonly EventSink[] };

/** `haproxy.eventRing` as a checklist line: without the ring, changes are seen only at the next poll. Pure. */
export function describeEventRing(ring: string, pollIntervalMs: number, trial: EventRingTrial): CheckItem {
  if (trial.following)
    return { verdict: 'ok', what: `haproxy.eventRing: HAProxy's ring '${ring}' is followed` };
  const rings = trial.sinks?.filter((s) => s.type === 'buffer').map((s) => s.name);
  const known = rings === undefined ? '' : `; its rings: ${rings.join(', ') || 'none'}`;
  const level =
    trial.error instanceof HaproxyError && trial.error.code === 'HAPROXY_PERMISSION_DENIED'
      ? ' (following a ring needs the stats socket at level operator or admin)'
      : '';
  return {
    verdict: 'fail',
    what: `haproxy.eventRing: ${trial.error.message}${level}${known}; without it, HAProxy's changes are seen only by the poll every ${pollIntervalMs} ms`,
  };
}

/** Follows `ring` as `run` does, until HAProxy confirms or refuses it (or `timeoutMs`), then lets go. */
export async function tryEventRing(
  client: HaproxyClient,
  ring: string,
  timeoutMs: number,
): Promise<EventRingTrial> {
  const follower = client.followEvents(ring, () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const attached = await Promise.race([
    follower.attached ?? Promise.resolve(false),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
  ]);
  clearTimeout(timer);
  follower.close();
  const error = await follower.closed.then(
    () => null,
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
  if (attached === true) return { following: true };
  if (attached === 'timeout')
    return { following: false, error: new Error(`HAProxy did not confirm the ring within ${timeoutMs} ms`) };
  const sinks =
    error instanceof HaproxyError && error.code === 'HAPROXY_UNKNOWN_RING'
      ? await client.showEventSinks().catch(() => undefined)
      : undefined;
  return {
    following: false,
    error: error ?? new Error('HAProxy ended the session before confirming the ring'),
    ...(sinks ? { sinks } : {}),
  };
}

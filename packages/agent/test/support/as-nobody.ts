import { spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';

/** The uid and gid of user nobody. */
export const NOBODY = 65534;

/**
 * Runs `command` as user nobody with `groups` as its only supplementary groups, through util-linux's
 * `setpriv` (root only): to check what file permissions let another user do.
 */
export function runAsNobody(
  groups: readonly number[],
  command: readonly string[],
  timeoutMs = 20_000,
): SpawnSyncReturns<string> {
  return spawnSync(
    'setpriv',
    [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      ...(groups.length ? [`--groups=${groups.join(',')}`] : ['--clear-groups']),
      ...command,
    ],
    { encoding: 'utf8', timeout: timeoutMs },
  );
}

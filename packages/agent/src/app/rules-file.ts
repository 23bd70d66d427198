import { watch as watchFs } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';

/** One reading of the rules file: what tells a finished write from one under way. */
export interface RulesFileVersion {
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly text: string;
  /** The file did not change while it was read (same inode, size and mtime before and after). */
  readonly stable: boolean;
}

/** How a change was judged complete: it stayed the same for the settle period, or a new file was renamed in. */
export type RulesFileTake = 'settled' | 'renamed';

/** What the watcher does with a change, given the previous version taken and the one just read. Pure. */
export function settleStep(
  state: {
    /** The inode of the version last taken (or read at boot). */
    readonly takenIno: bigint | null;
    /** The version waiting to settle, and since when (ms). */
    readonly pending: (RulesFileVersion & { readonly since: number }) | null;
  },
  seen: RulesFileVersion,
  now: number,
  settleMs: number,
):
  | { readonly action: 'take'; readonly how: RulesFileTake }
  | { readonly action: 'wait'; readonly ms: number; readonly changed: boolean } {
  // A rename puts a new, complete file in place at once (`mv`, editors' and config managers' atomic
  // saves). An empty new file is more likely created by a writer that has not written yet.
  if (seen.ino !== state.takenIno && seen.size > 0n && seen.stable) return { action: 'take', how: 'renamed' };
  const p = state.pending;
  const same =
    p !== null &&
    p.ino === seen.ino &&
    p.size === seen.size &&
    p.mtimeNs === seen.mtimeNs &&
    p.text === seen.text;
  if (!same || !seen.stable) return { action: 'wait', ms: settleMs, changed: true };
  const left = p.since + settleMs - now;
  return left <= 0 ? { action: 'take', how: 'settled' } : { action: 'wait', ms: left, changed: false };
}

/** Reads the file and its identity; null when it does not exist. */
async function readVersion(file: string): Promise<RulesFileVersion | null> {
  try {
    const before = await stat(file, { bigint: true });
    const text = await readFile(file, 'utf8');
    const after = await stat(file, { bigint: true });
    const stable =
      before.ino === after.ino &&
      before.size === after.size &&
      before.mtimeNs === after.mtimeNs &&
      BigInt(Buffer.byteLength(text)) === after.size;
    return { ino: after.ino, size: after.size, mtimeNs: after.mtimeNs, text, stable };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export interface RulesFileWatcherOptions {
  readonly file: string;
  /** How long a changed file must stay the same (inode, size, mtime, content) before it is taken. */
  readonly settleMs: number;
  readonly logger: Logger;
  /** Hands over a complete file. */
  readonly take: (text: string, how: RulesFileTake) => void;
}

/**
 * Watches the rules file and hands over a change only once the file is complete: unchanged for the settle
 * period, so that a file truncated and written again (`cp`, `cat >`, scp) is not read in between; or at
 * once when a new file was renamed into place. The directory is watched: editors and config managers
 * replace the file rather than write into it.
 */
export class RulesFileWatcher {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private takenIno: bigint | null = null;
  private pending: (RulesFileVersion & { since: number }) | null = null;
  private checking = false;
  private again = false;
  private closed = false;
  private missing = false;

  constructor(private readonly options: RulesFileWatcherOptions) {}

  /** Starts watching; the file as it is now counts as taken (it was read at boot). */
  async start(): Promise<void> {
    const { file, logger } = this.options;
    this.takenIno = (await readVersion(file).catch(() => null))?.ino ?? null;
    try {
      this.watcher = watchFs(dirname(file), (_event, name) => {
        if (name === basename(file)) this.check();
      });
      this.watcher.on('error', (err) =>
        logger.warn({ event: 'rulesWatchFailed', err }, 'cannot watch the rules file; SIGHUP reloads it'),
      );
    } catch (err) {
      logger.warn({ event: 'rulesWatchFailed', err }, 'cannot watch the rules file; SIGHUP reloads it');
    }
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    if (this.timer) clearTimeout(this.timer);
  }

  /** Looks at the file now; a look already under way looks again once it is done. */
  private check(): void {
    if (this.closed) return;
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = true;
    void this.look()
      .catch((err: unknown) =>
        this.options.logger.warn(
          { event: 'rulesFileUnreadable', file: this.options.file, err },
          'cannot read the rules file',
        ),
      )
      .finally(() => {
        this.checking = false;
        if (this.again) {
          this.again = false;
          this.check();
        }
      });
  }

  private async look(): Promise<void> {
    const { file, settleMs, logger, take } = this.options;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const seen = await readVersion(file);
    if (this.closed) return;
    if (!seen) {
      if (!this.missing)
        logger.warn(
          { event: 'rulesFileMissing', file },
          'the rules file is gone; the rule set in force stays',
        );
      this.missing = true;
      this.pending = null;
      return;
    }
    this.missing = false;
    const now = Date.now();
    const step = settleStep({ takenIno: this.takenIno, pending: this.pending }, seen, now, settleMs);
    if (step.action === 'take') {
      this.pending = null;
      this.takenIno = seen.ino;
      logger.info(
        { event: 'rulesFileChanged', file, how: step.how, size: Number(seen.size) },
        step.how === 'renamed'
          ? 'a new rules file was renamed into place'
          : 'the rules file changed and settled',
      );
      take(seen.text, step.how);
      return;
    }
    if (step.changed) {
      const first = this.pending === null;
      this.pending = { ...seen, since: now };
      logger[first ? 'info' : 'debug'](
        { event: 'rulesFileSettling', file, size: Number(seen.size), settleMs },
        'the rules file changed; waiting for it to stay the same before reading it',
      );
    }
    this.timer = setTimeout(() => this.check(), step.ms);
  }
}

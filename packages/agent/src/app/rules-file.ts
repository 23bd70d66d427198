import { watch as watchFs } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';

/** One reading of the rules file: what tells a finished write from one under way. */
export interface RulesFileVersion {
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  /** Its content (at most `maxBytes` + 1 bytes of it), not decoded: the worker judging it decodes it. */
  readonly bytes: Uint8Array;
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
    Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength).equals(seen.bytes);
  if (!same || !seen.stable) return { action: 'wait', ms: settleMs, changed: true };
  const left = p.since + settleMs - now;
  return left <= 0 ? { action: 'take', how: 'settled' } : { action: 'wait', ms: left, changed: false };
}

/**
 * Reads at most `maxBytes` + 1 bytes of a file: enough for a rule set over `maxBytes` to be refused as too
 * large, without holding the rest (a runaway 20 MB file costs what 4 MiB does). The bytes are read into
 * one buffer of their own (never a pooled one: it may be transferred to the worker), by the thread pool,
 * and not decoded: on the main thread a 4 MiB text cost 15 ms to join from pieces and as much to decode.
 */
export async function readBounded(file: string, maxBytes: number): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    // As large as the file (or the limit + 1): the common case is read into it whole, without a copy.
    let buffer = Buffer.allocUnsafeSlow(Math.min(size, maxBytes + 1));
    let bytes = 0;
    for (;;) {
      if (bytes === buffer.length) {
        if (bytes > maxBytes) return buffer;
        // Full: at the end of the file, unless it grew while it was read.
        const probe = Buffer.alloc(1);
        if ((await handle.read(probe, 0, 1, null)).bytesRead === 0) return buffer;
        const larger = Buffer.allocUnsafeSlow(Math.min(2 * buffer.length + 1, maxBytes + 1));
        buffer.copy(larger, 0, 0, bytes);
        larger[bytes++] = probe[0] ?? 0;
        buffer = larger;
        continue;
      }
      const { bytesRead } = await handle.read(buffer, bytes, buffer.length - bytes, null);
      if (bytesRead === 0) return buffer.subarray(0, bytes);
      bytes += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/** Reads the file (at most `maxBytes` + 1 bytes of it) and its identity; null when it does not exist. */
async function readVersion(file: string, maxBytes: number): Promise<RulesFileVersion | null> {
  try {
    const before = await stat(file, { bigint: true });
    const bytes = await readBounded(file, maxBytes);
    const after = await stat(file, { bigint: true });
    const read = bytes.byteLength;
    const stable =
      before.ino === after.ino &&
      before.size === after.size &&
      before.mtimeNs === after.mtimeNs &&
      (BigInt(read) === after.size || (read > maxBytes && after.size > BigInt(maxBytes)));
    return { ino: after.ino, size: after.size, mtimeNs: after.mtimeNs, bytes, stable };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export interface RulesFileWatcherOptions {
  readonly file: string;
  /** How long a changed file must stay the same (inode, size, mtime, content) before it is taken. */
  readonly settleMs: number;
  /** What is read of the file: past this, a file is only known to be too large (`rules.limits.maxBytes`). */
  readonly maxBytes: number;
  readonly logger: Logger;
  /** Hands over a complete file (its bytes are the taker's: they may be transferred). */
  readonly take: (bytes: Uint8Array, how: RulesFileTake) => void;
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
    this.takenIno = (await readVersion(file, this.options.maxBytes).catch(() => null))?.ino ?? null;
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
    const seen = await readVersion(file, this.options.maxBytes);
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
      take(seen.bytes, step.how);
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

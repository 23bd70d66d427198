import { randomBytes } from 'node:crypto';
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BirdIncludeWriteError } from './errors.js';

/** Reads the include file; undefined when it does not exist. */
export async function readInclude(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BirdIncludeWriteError(path, { cause: err });
  }
}

/**
 * Replaces the file atomically: write a temp file next to it and rename it over the old one. BIRD, parsing
 * on `configure`, sees the old or the new file, never a torn one. `undefined` removes the file.
 *
 * This is on the failover path, so it is kept short. Synchronous calls: for a file this small the thread
 * pool's round trips cost more than the work (tmpfs: 0.14 ms median instead of 0.46; ext4: 0.7 instead of
 * 1.1). No fsync: it cost 1.5 to 9 ms on ext4 and buys nothing here, because the file is derived state
 * that the injector rewrites on its first `set()` after any restart; ext4 also flushes a file renamed over
 * another before the rename commits, and a file lost to a power cut is at worst empty, which advertises
 * nothing until the agent has judged HAProxy's health again.
 */
export function writeIncludeAtomically(path: string, text: string | undefined): void {
  try {
    if (text === undefined) {
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      return;
    }
    const temp = join(
      dirname(path),
      `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    );
    try {
      writeFileSync(temp, text, { encoding: 'utf8', mode: 0o644 });
      renameSync(temp, path);
    } catch (err) {
      try {
        unlinkSync(temp);
      } catch {
        // The temp file was never created.
      }
      throw err;
    }
  } catch (err) {
    throw new BirdIncludeWriteError(path, { cause: err });
  }
}

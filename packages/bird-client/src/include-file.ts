import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
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
 * Replaces the file atomically: write a temp file next to it, fsync it, rename it over the old one.
 * BIRD, parsing on `configure`, sees the old or the new file, never a torn one; after a power loss the file
 * is whole (old or new). The directory is not fsynced: a lost rename leaves the old file, which the
 * injector's reconcile at start rewrites. `undefined` removes the file.
 */
export async function writeIncludeAtomically(path: string, text: string | undefined): Promise<void> {
  try {
    if (text === undefined) {
      await unlink(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      return;
    }
    const temp = join(
      dirname(path),
      `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    );
    const file = await open(temp, 'w', 0o644);
    try {
      await file.writeFile(text, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path).catch(async (err: unknown) => {
      await unlink(temp).catch(() => undefined);
      throw err;
    });
  } catch (err) {
    throw new BirdIncludeWriteError(path, { cause: err });
  }
}

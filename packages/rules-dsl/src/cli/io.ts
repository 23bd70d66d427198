import { closeSync, openSync, readSync } from 'node:fs';
import writeFileAtomic from 'write-file-atomic';

/** The CLI's window on the world; tests pass their own. */
export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /**
   * The text of a file (UTF-8), or of its first `maxBytes` + 1 bytes when it is longer: enough to tell
   * that it is over the limit, without holding or waiting for the rest (`/dev/zero`, an endless pipe).
   */
  readonly readFile: (path: string, maxBytes: number) => string;
  readonly writeFile: (path: string, text: string) => void;
}

const CHUNK = 64 * 1024;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * `readSync`, waiting out EAGAIN: standard input can be a non-blocking pipe whose writer has not written
 * yet (`slow-command | rhi-rules lint -`), which `readFileSync` gave up on.
 */
function readWaiting(fd: number, chunk: Buffer): number {
  for (;;) {
    try {
      return readSync(fd, chunk, 0, chunk.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
}

/** Reads at most `maxBytes` + 1 bytes of `path` (`-` is standard input). */
function readBounded(path: string, maxBytes: number): string {
  const fd = path === '-' ? 0 : openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    while (total <= maxBytes) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK, maxBytes + 1 - total));
      const n = readWaiting(fd, chunk);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

/**
 * The real process: stdout, stderr and the file system (`-` reads standard input). Files are written
 * atomically (temp file, fsync, rename) by `write-file-atomic`, so `fmt --write` never leaves half a file.
 */
export const processIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readFile: readBounded,
  writeFile: (path, text) => writeFileAtomic.sync(path, text),
};

import { readFileSync } from 'node:fs';
import writeFileAtomic from 'write-file-atomic';

/** The CLI's window on the world; tests pass their own. */
export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readFile: (path: string) => string;
  readonly writeFile: (path: string, text: string) => void;
}

/**
 * The real process: stdout, stderr and the file system (`-` reads standard input). Files are written
 * atomically (temp file, fsync, rename) by `write-file-atomic`, so `fmt --write` never leaves half a file.
 */
export const processIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readFile: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
  writeFile: (path, text) => writeFileAtomic.sync(path, text),
};

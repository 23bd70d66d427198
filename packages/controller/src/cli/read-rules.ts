import { open } from 'node:fs/promises';
import { DEFAULT_LIMITS } from '@rhi/rules-dsl';
import { RhictlUsageError } from './command.js';

/**
 * Reads at most `maxBytes` + 1 bytes of a rules file: enough for the parser (here or the controller's) to
 * say it is over the limit, without reading all of a huge input.
 */
export async function readRules(path: string, maxBytes = DEFAULT_LIMITS.maxBytes): Promise<string> {
  try {
    const file = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(maxBytes + 1);
      let total = 0;
      for (;;) {
        const { bytesRead } = await file.read(buffer, total, buffer.length - total, null);
        if (bytesRead === 0 || (total += bytesRead) === buffer.length) break;
      }
      return buffer.subarray(0, total).toString('utf8');
    } finally {
      await file.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RhictlUsageError(`cannot read rules file '${path}': ${code ?? (err as Error).message}`, {
      cause: err,
    });
  }
}

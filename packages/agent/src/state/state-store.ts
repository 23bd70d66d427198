import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { z } from 'zod';
import type { PersistedDrain, PersistedRuleSet } from '../core/state-files.js';
import { PersistedDrainSchema, PersistedRuleSetSchema, stateFileText } from '../core/state-files.js';

/** What went wrong reading a state file; the agent logs it and goes on as if the file were absent. */
export interface StateProblem {
  readonly file: string;
  readonly reason: string;
}

/**
 * The agent's state directory. Writes are atomic (temp file, fsync, rename): a crash leaves the old file
 * or the new one, never half of one. A corrupt or unreadable file reads as absent, with the problem
 * reported, so that a bad file can never crash the agent.
 */
export class StateStore {
  constructor(readonly dir: string) {}

  private path(name: string): string {
    return join(this.dir, name);
  }

  private async read<T>(name: string, schema: z.ZodType<T>, problems: StateProblem[]): Promise<T | null> {
    const file = this.path(name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        problems.push({ file, reason: (err as Error).message });
      return null;
    }
    try {
      const parsed = schema.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
      problems.push({
        file,
        reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      });
    } catch (err) {
      problems.push({ file, reason: `not JSON: ${(err as Error).message}` });
    }
    return null;
  }

  loadRuleSet(problems: StateProblem[] = []): Promise<PersistedRuleSet | null> {
    return this.read('ruleset.json', PersistedRuleSetSchema, problems);
  }

  /**
   * Saves the last good rule set; given as bytes, they are the file's text already made
   * ({@link stateFileText}, in the rule-set worker for a rules file: 4 MiB of text cost the main thread
   * tens of ms to encode).
   */
  async saveRuleSet(value: PersistedRuleSet | Uint8Array): Promise<void> {
    await writeFileAtomic(
      this.path('ruleset.json'),
      value instanceof Uint8Array
        ? Buffer.from(value.buffer, value.byteOffset, value.byteLength)
        : stateFileText(value),
      { mode: 0o640 },
    );
  }

  loadDrain(problems: StateProblem[] = []): Promise<PersistedDrain | null> {
    return this.read('drain.json', PersistedDrainSchema, problems);
  }

  async saveDrain(value: PersistedDrain): Promise<void> {
    await writeFileAtomic(this.path('drain.json'), stateFileText(value), { mode: 0o640 });
  }
}

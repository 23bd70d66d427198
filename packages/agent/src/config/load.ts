import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Node } from 'yaml';
import type { AgentConfig } from './schema.js';
import { AgentConfigSchema } from './schema.js';

/** One problem in a configuration file, with its place. */
export interface ConfigIssue {
  /** Dotted config path, e.g. `bird.socket` or `allowlist.1`. */
  readonly path: string;
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

/** A configuration that cannot be used; `issues` lists every problem at once. */
export class ConfigInvalidError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(
      `${file}: invalid configuration\n${issues
        .map((i) => `  ${file}${i.line ? `:${i.line}:${i.column}` : ''}: ${i.path || '(root)'}: ${i.message}`)
        .join('\n')}`,
    );
    this.name = 'ConfigInvalidError';
  }
}

function nodeAt(root: Node | null, path: readonly PropertyKey[]): Node | null {
  let node = root;
  for (const key of path) {
    if (isMap(node)) node = (node.get(String(key), true) as Node | undefined) ?? null;
    else if (isSeq(node)) node = (node.get(Number(key), true) as Node | undefined) ?? null;
    else return node;
  }
  return node;
}

/** Parses and validates YAML configuration text. Throws {@link ConfigInvalidError} naming every bad path. */
export function parseConfig(text: string, file: string): AgentConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    throw new ConfigInvalidError(
      file,
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { path: '', message: e.message.split('\n')[0] ?? e.message, line: pos.line, column: pos.col };
      }),
    );
  }
  const result = AgentConfigSchema.safeParse(doc.toJS() ?? {});
  if (result.success) return result.data;
  throw new ConfigInvalidError(
    file,
    result.error.issues.map((issue) => {
      const node = nodeAt(doc.contents as Node | null, issue.path);
      const offset = node && (isScalar(node) || isMap(node) || isSeq(node)) ? node.range?.[0] : undefined;
      const pos = offset === undefined ? undefined : lines.linePos(offset);
      return {
        path: issue.path.join('.'),
        message: issue.message,
        ...(pos ? { line: pos.line, column: pos.col } : {}),
      };
    }),
  );
}

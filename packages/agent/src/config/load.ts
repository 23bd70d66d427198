import { isMap, isScalar, isSeq, LineCounter, parse as parseYaml, parseDocument } from 'yaml';
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

/** One value set from outside the file: `--set haproxy.pollIntervalMs=100` or `RHI_HAPROXY__POLL_INTERVAL_MS=100`. */
export interface ConfigOverride {
  readonly path: readonly string[];
  /** YAML text: `100`, `true`, `[nats://a:4222, nats://b:4222]`, `lb-1`. */
  readonly value: string;
  /** Where it came from, for error messages. */
  readonly source: string;
}

const camel = (word: string) => word.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * Overrides from the environment: `RHI_<SECTION>__<KEY>` with `__` between levels and `_` inside a
 * camelCase key, e.g. `RHI_NODE__NAME=lb-1`, `RHI_HAPROXY__POLL_INTERVAL_MS=100`, `RHI_STATE_DIR=/x`.
 * Only variables whose first part names a configuration section are overrides: `RHI_CONFIG` (the file)
 * and `RHI_LOG_LEVEL` (the log level) are not.
 */
export function overridesFromEnv(env: Readonly<Record<string, string | undefined>>): ConfigOverride[] {
  const sections = new Set(Object.keys(AgentConfigSchema.shape));
  return Object.entries(env)
    .filter(([k, v]) => k.startsWith('RHI_') && v !== undefined)
    .map(([k, v]) => ({
      path: k.slice(4).split('__').map(camel),
      value: v ?? '',
      source: `environment ${k}`,
    }))
    .filter((o) => sections.has(o.path[0] ?? ''));
}

/** An override from `--set <path>=<value>`. */
export function overrideFromFlag(flag: string): ConfigOverride {
  const eq = flag.indexOf('=');
  if (eq <= 0)
    throw new ConfigInvalidError('--set', [
      { path: flag, message: 'expected <path>=<value>, e.g. haproxy.pollIntervalMs=100' },
    ]);
  return { path: flag.slice(0, eq).split('.'), value: flag.slice(eq + 1), source: `--set ${flag}` };
}

function applyOverride(target: Record<string, unknown>, o: ConfigOverride): void {
  let node = target;
  o.path.forEach((key, i) => {
    if (i === o.path.length - 1) {
      node[key] = parseYaml(o.value) as unknown;
      return;
    }
    const next = node[key];
    if (next === undefined || next === null) node[key] = {};
    else if (typeof next !== 'object' || Array.isArray(next)) {
      throw new ConfigInvalidError(o.source, [
        { path: o.path.slice(0, i + 1).join('.'), message: 'is not a section' },
      ]);
    }
    node = node[key] as Record<string, unknown>;
  });
}

/**
 * Parses and validates YAML configuration text, then the overrides (environment first, flags last).
 * Throws {@link ConfigInvalidError} naming every bad path.
 */
export function parseConfig(
  text: string,
  file: string,
  overrides: readonly ConfigOverride[] = [],
): AgentConfig {
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
  const raw = (doc.toJS() ?? {}) as Record<string, unknown>;
  for (const o of overrides) applyOverride(raw, o);
  const result = AgentConfigSchema.safeParse(raw);
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

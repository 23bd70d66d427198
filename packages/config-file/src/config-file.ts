import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Node } from 'yaml';
import type { z } from 'zod';

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
export function overridesFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  schema: z.ZodObject,
): ConfigOverride[] {
  const sections = new Set(Object.keys(schema.shape));
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

/** A configuration file larger than this is refused unread: ours are a few kB. */
export const MAX_CONFIG_BYTES = 256 * 1024;
/** YAML aliases may expand a document this many times over, no more (the `yaml` package's measure). */
const MAX_ALIAS_COUNT = 100;
/** Syntax errors reported, at most: a mangled file can have hundreds. */
const MAX_REPORTED_ERRORS = 20;

/** The document as plain data, or the reason it cannot be (an alias bomb, an alias with no anchor). */
function plain(toJS: () => unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: toJS() };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      message: /excessive alias count/i.test(message)
        ? `YAML aliases expand this document more than ${MAX_ALIAS_COUNT} times (an alias bomb?): refused`
        : message,
    };
  }
}

function applyOverride(target: Record<string, unknown>, o: ConfigOverride): void {
  let node = target;
  o.path.forEach((key, i) => {
    if (i === o.path.length - 1) {
      const doc = parseDocument(o.value, { prettyErrors: false });
      const value = doc.errors.length
        ? { ok: false as const, message: doc.errors[0]?.message.split('\n')[0] ?? 'invalid YAML' }
        : plain(() => doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
      if (!value.ok)
        throw new ConfigInvalidError(o.source, [{ path: o.path.join('.'), message: value.message }]);
      node[key] = value.value;
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

/** ` (node:, haproxy:, ...)`: the first sections of an object schema, for an error message. */
function sectionsHint(schema: z.ZodType): string {
  const shape = (schema as { shape?: Record<string, unknown> }).shape;
  const keys = shape ? Object.keys(shape).slice(0, 2) : [];
  return keys.length ? ` (${keys.map((k) => `${k}:`).join(', ')}, ...)` : '';
}

/**
 * Parses and validates YAML configuration text, then the overrides (environment first, flags last).
 * Throws {@link ConfigInvalidError} naming every bad path.
 */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  text: string,
  file: string,
  overrides: readonly ConfigOverride[] = [],
): z.output<S> {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_CONFIG_BYTES)
    throw new ConfigInvalidError(file, [
      { path: '', message: `${bytes} bytes: a configuration file is at most ${MAX_CONFIG_BYTES} bytes` },
    ]);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    const more = doc.errors.length - MAX_REPORTED_ERRORS;
    throw new ConfigInvalidError(file, [
      ...doc.errors.slice(0, MAX_REPORTED_ERRORS).map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { path: '', message: e.message.split('\n')[0] ?? e.message, line: pos.line, column: pos.col };
      }),
      ...(more > 0 ? [{ path: '', message: `and ${more} more YAML errors` }] : []),
    ]);
  }
  const data = plain(() => doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
  if (!data.ok) throw new ConfigInvalidError(file, [{ path: '', message: data.message }]);
  const raw = (data.value ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigInvalidError(file, [
      { path: '', message: `expected a mapping of sections${sectionsHint(schema)}` },
    ]);
  for (const o of overrides) applyOverride(raw, o);
  const result = schema.safeParse(raw);
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

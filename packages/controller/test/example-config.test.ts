import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, LineCounter, parse as parseYaml, parseDocument } from 'yaml';
import type { Node } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ControllerConfigSchema } from '../src/config/schema.js';

// examples/controller.yaml lists every key of the configuration, each with its true default, kept in step
// with the schema here, as packages/agent/test/example-config.test.ts does for the agent (same markers). A
// key's comment says what its value is: nothing special, the default; `# required...`, no default;
// `# example (default: X)` or `# example (default: X; more)`, a value for the example, X being the default
// in YAML (`none`: unset). A key commented out with such a comment is documented but not set.

const file = new URL('../../../examples/controller.yaml', import.meta.url);

/** Only what the schema requires: each key's default is what parsing this without the key gives. */
const REQUIRED = {
  nats: { servers: ['nats://127.0.0.1:4222'], token: 'a-token' },
  api: { tokens: [{ name: 'ops', role: 'viewer', sha256: '0'.repeat(64) }] },
};
/** What an optional section needs besides the key looked at, when a key inside it is looked at. */
const SECTION_NEEDS: Record<string, unknown> = {};

type Path = readonly string[];
interface ZodLike {
  readonly def: {
    readonly type: string;
    readonly shape?: Record<string, ZodLike>;
    readonly innerType?: ZodLike;
    readonly in?: ZodLike;
    readonly options?: readonly ZodLike[];
  };
}

/** The keys of the object a schema holds (inside defaults, optionals, a pipe's input, a union's one object), or null. */
function shapeOf(schema: ZodLike): Record<string, ZodLike> | null {
  const def = schema.def;
  if (def.type === 'object') return def.shape ?? {};
  if (def.innerType) return shapeOf(def.innerType);
  if (def.type === 'pipe' && def.in) return shapeOf(def.in);
  if (def.type === 'union') {
    const objects = (def.options ?? []).map(shapeOf).filter((s) => s !== null);
    return objects.length === 1 ? (objects[0] ?? null) : null;
  }
  return null;
}

interface SchemaKey {
  readonly path: Path;
  /** Holds keys of its own (shown as a map in the example). */
  readonly section: boolean;
  /** Optional as a whole, with no default (`nats`, `nats.tls`). */
  readonly optional: boolean;
}

function schemaKeys(shape: Record<string, ZodLike>, at: Path = []): SchemaKey[] {
  return Object.entries(shape).flatMap(([key, schema]) => {
    const path = [...at, key];
    const inner = shapeOf(schema);
    const self = { path, section: inner !== null, optional: schema.def.type === 'optional' };
    return inner ? [self, ...schemaKeys(inner, path)] : [self];
  });
}

const dotted = (path: Path) => path.join('.');
const clone = <T>(value: T): T => structuredClone(value);

function getIn(value: unknown, path: Path): unknown {
  let at = value;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** Sets `path` to `value`, making the maps on the way; `undefined` deletes the key (and makes nothing). */
function setIn(target: Record<string, unknown>, path: Path, value: unknown): void {
  let at = target;
  for (const key of path.slice(0, -1)) {
    if (typeof at[key] !== 'object' || at[key] === null) {
      if (value === undefined) return;
      at[key] = {};
    }
    at = at[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1] ?? '';
  if (value === undefined) delete at[last];
  else at[last] = value;
}

/** A line's comment: the text after the first `#` that follows a blank, outside quotes. */
function commentOf(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) return line.slice(i + 1).trim();
  }
  return '';
}

type Marker =
  | { readonly kind: 'default' }
  | { readonly kind: 'required' }
  | { readonly kind: 'example'; readonly default: string }
  | { readonly kind: 'malformed'; readonly comment: string };

function markerOf(comment: string): Marker {
  if (/^required\b/.test(comment)) return { kind: 'required' };
  const example = /^example \(default: ([^;)]*)[;)]/.exec(comment);
  if (example) return { kind: 'example', default: (example[1] ?? '').trim() };
  if (/^example\b/.test(comment)) return { kind: 'malformed', comment };
  return { kind: 'default' };
}

/** Keys commented out with a marker, uncommented: `  # token: t # example (...)` -> `  token: t # example (...)`. */
const uncomment = (text: string) =>
  text.replace(
    /^(\s*)# (\s*[A-Za-z][A-Za-z0-9_]*:(?: .*)? # (?:example|required)\b.*)$/gm,
    (_, indent: string, rest: string) => `${indent}${rest}`,
  );

interface ExampleKey {
  readonly path: Path;
  readonly marker: Marker;
  readonly section: boolean;
}

function exampleKeys(text: string, sections: ReadonlySet<string>): ExampleKey[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const source = text.split('\n');
  const walk = (node: unknown, at: Path): ExampleKey[] => {
    if (!isMap(node)) return [];
    return node.items.flatMap((pair) => {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const path = [...at, key];
      const offset = (pair.key as Node | null)?.range?.[0] ?? 0;
      const line = source[lines.linePos(offset).line - 1] ?? '';
      const section = sections.has(dotted(path)) && isMap(pair.value);
      const self = { path, marker: markerOf(commentOf(line)), section };
      return section ? [self, ...walk(pair.value, path)] : [self];
    });
  };
  return walk(doc.contents, []);
}

describe('examples/controller.yaml', () => {
  const text = uncomment(readFileSync(file, 'utf8'));
  const shown = parseYaml(text) as Record<string, unknown>;
  const keys = schemaKeys(ControllerConfigSchema.shape as unknown as Record<string, ZodLike>);
  const byPath = new Map(keys.map((k) => [dotted(k.path), k]));
  const sections = new Set(keys.filter((k) => k.section).map((k) => dotted(k.path)));
  const example = exampleKeys(text, sections);

  /**
   * The configuration without `path`. Optional sections on the way are given what they need; with
   * `sections`, every section on the way is given, so that a key's default when its section is written
   * without it can be compared.
   */
  const without = (path: Path, sections: boolean): Record<string, unknown> => {
    const config = clone(REQUIRED) as Record<string, unknown>;
    for (let i = 1; i < path.length; i++) {
      const at = path.slice(0, i);
      if (getIn(config, at) !== undefined) continue;
      if (sections || byPath.get(dotted(at))?.optional)
        setIn(config, at, clone(SECTION_NEEDS[dotted(at)] ?? {}));
    }
    setIn(config, path, undefined);
    return config;
  };
  const valueIn = (config: Record<string, unknown>, path: Path) => {
    const parsed = ControllerConfigSchema.safeParse(config);
    return parsed.success
      ? { ok: true as const, value: getIn(parsed.data, path) }
      : {
          ok: false as const,
          why: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        };
  };
  /** The true default: the value with the key absent, or undefined when there is none (or it is required). */
  const defaultOf = (path: Path) => {
    const absent = valueIn(without(path, false), path);
    return absent.ok ? absent.value : undefined;
  };
  const show = (value: unknown) => (value === undefined ? 'none' : JSON.stringify(value));

  it('lists every key of the schema, and no other', () => {
    const listed = new Set(example.map((k) => dotted(k.path)));
    const problems = [
      ...keys
        .filter((k) => !listed.has(dotted(k.path)))
        .map((k) => `${dotted(k.path)}: a key of the schema that the example does not list`),
      ...example
        .filter((k) => !byPath.has(dotted(k.path)))
        .map((k) => `${dotted(k.path)}: in the example, but not a key of the schema`),
    ];
    expect(problems).toEqual([]);
  });

  it('shows each key with its true default, or says it is required or an example', () => {
    const problems: string[] = [];
    for (const key of example) {
      const name = dotted(key.path);
      if (key.section || !byPath.has(name)) continue;
      const truth = defaultOf(key.path);
      const { marker } = key;
      if (marker.kind === 'malformed') {
        problems.push(`${name}: '# ${marker.comment}': write '# example (default: <value or none>)'`);
        continue;
      }
      if (marker.kind === 'required') {
        if (truth !== undefined) problems.push(`${name}: marked required, but its default is ${show(truth)}`);
        continue;
      }
      if (marker.kind === 'example') {
        const stated = marker.default === 'none' ? undefined : (parseYaml(marker.default) as unknown);
        const config = without(key.path, false);
        setIn(config, key.path, stated);
        const normalized =
          stated === undefined ? { ok: true as const, value: undefined } : valueIn(config, key.path);
        if (!normalized.ok)
          problems.push(`${name}: the stated default ${marker.default} is refused: ${normalized.why}`);
        else if (!isDeepStrictEqual(normalized.value, truth))
          problems.push(`${name}: says default ${marker.default}, but the default is ${show(truth)}`);
        continue;
      }
      // Shown as the default: the value as the controller reads it (within the example's own section) is the
      // value it gets without the key.
      const config = without(key.path, false);
      const parent = key.path.slice(0, -1);
      if (parent.length) setIn(config, parent, clone(getIn(shown, parent)));
      else setIn(config, key.path, clone(getIn(shown, key.path)));
      const value = valueIn(config, key.path);
      if (truth === undefined)
        problems.push(`${name}: has no default: mark it '# required' or '# example (default: none)'`);
      else if (!value.ok) problems.push(`${name}: the value shown is refused: ${value.why}`);
      else if (!isDeepStrictEqual(value.value, truth))
        problems.push(
          `${name}: shows ${show(value.value)}, but the default is ${show(truth)}: show the default or mark it '# example (default: ...)'`,
        );
    }
    expect(problems).toEqual([]);
  });

  it('gives each key the same default whether its section is absent or written without the key', () => {
    const problems: string[] = [];
    for (const key of keys) {
      if (key.section || key.path.length < 2) continue;
      const inSection = valueIn(without(key.path, true), key.path);
      const truth = defaultOf(key.path);
      // A section that cannot be written without this key has no such default to differ.
      if (inSection.ok && !isDeepStrictEqual(inSection.value, truth))
        problems.push(
          `${dotted(key.path)}: ${show(truth)} when ${dotted(key.path.slice(0, -1))} is absent, ${show(inSection.value)} when it is written without the key`,
        );
    }
    expect(problems).toEqual([]);
  });
});

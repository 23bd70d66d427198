import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, LineCounter, parse as parseYaml, parseDocument } from 'yaml';
import type { Node } from 'yaml';

/**
 * A zod object schema as the example check reads it (structurally, so that this package needs no zod):
 * its keys, walked through `def`, and `safeParse`.
 */
export interface ConfigSchema {
  readonly shape: object;
  safeParse(value: unknown): ConfigParseResult;
}

/** What `ConfigSchema.safeParse` returns (zod's result, as far as the check reads it). */
export type ConfigParseResult =
  | { readonly success: true; readonly data: unknown }
  | {
      readonly success: false;
      readonly error: {
        readonly issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[];
      };
    };

/** The program-specific half of an example check. */
export interface ExampleConfigOptions {
  readonly schema: ConfigSchema;
  /** Only what the schema requires: each key's default is what parsing this without the key gives. */
  readonly required: Readonly<Record<string, unknown>>;
  /**
   * What an optional section needs besides the key looked at, when a key inside it is looked at, by the
   * section's dotted path (e.g. `nats`: its servers and credentials).
   */
  readonly sectionNeeds?: Readonly<Record<string, unknown>>;
}

/**
 * The problems found in an example configuration, one message per key, each list computed when asked;
 * an honest example gives three empty lists.
 */
export interface ExampleConfigCheck {
  /** Keys of the schema the example does not list, and keys it lists that the schema does not have. */
  listingProblems(): string[];
  /** Keys whose comment or value does not tell their true default (see `checkExampleConfig`). */
  defaultProblems(): string[];
  /** Keys whose default differs between their section absent and their section written without them. */
  sectionDefaultProblems(): string[];
}

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

const show = (value: unknown) => (value === undefined ? 'none' : JSON.stringify(value));

/**
 * Checks that an example configuration (the text of e.g. `examples/agent.yaml`) lists every key of
 * `schema`, each with its true default. A key's comment says what its value is: nothing special, the
 * default; `# required...`, no default; `# example (default: X)` or `# example (default: X; more)`, a
 * value for the example, X being the default in YAML (`none`: unset). A key commented out with such a
 * comment (`# token: t # example (default: none)`) is documented but not set in the example.
 */
export function checkExampleConfig(text: string, options: ExampleConfigOptions): ExampleConfigCheck {
  const { schema, required, sectionNeeds = {} } = options;
  const uncommented = uncomment(text);
  const shown = parseYaml(uncommented) as Record<string, unknown>;
  const keys = schemaKeys(schema.shape as Record<string, ZodLike>);
  const byPath = new Map(keys.map((k) => [dotted(k.path), k]));
  const sections = new Set(keys.filter((k) => k.section).map((k) => dotted(k.path)));
  const example = exampleKeys(uncommented, sections);

  /**
   * The configuration without `path`. Optional sections on the way are given what they need (a key of
   * `nats` has no default while `nats` is absent); with `sections`, every section on the way is given,
   * so that a key's default when its section is written without it can be compared.
   */
  const without = (path: Path, sections: boolean): Record<string, unknown> => {
    const config = clone(required) as Record<string, unknown>;
    for (let i = 1; i < path.length; i++) {
      const at = path.slice(0, i);
      if (getIn(config, at) !== undefined) continue;
      if (sections || byPath.get(dotted(at))?.optional)
        setIn(config, at, clone(sectionNeeds[dotted(at)] ?? {}));
    }
    setIn(config, path, undefined);
    return config;
  };
  const valueIn = (config: Record<string, unknown>, path: Path) => {
    const parsed = schema.safeParse(config);
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

  const listingProblems = (): string[] => {
    const listed = new Set(example.map((k) => dotted(k.path)));
    return [
      ...keys
        .filter((k) => !listed.has(dotted(k.path)))
        .map((k) => `${dotted(k.path)}: a key of the schema that the example does not list`),
      ...example
        .filter((k) => !byPath.has(dotted(k.path)))
        .map((k) => `${dotted(k.path)}: in the example, but not a key of the schema`),
    ];
  };

  const defaultProblems = (): string[] => {
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
      // Shown as the default: the value as the program reads it (within the example's own section) is the
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
    return problems;
  };

  const sectionDefaultProblems = (): string[] => {
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
    return problems;
  };

  return { listingProblems, defaultProblems, sectionDefaultProblems };
}

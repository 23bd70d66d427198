import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BackendHealth, Expr, HealthState, Route, RouteAttributes, RuleSet } from '../src/index.js';
import {
  DEFAULT_TABLE,
  evaluate,
  format,
  formatSource,
  parse,
  ruleSetHash,
  validateRuleSet,
} from '../src/index.js';
import { fcRuns, grammarChars, ruleSetArb } from './arbitraries.js';
import { checkAnyText } from './check.js';

/** Fixed seed and 200 runs by default; `FC_RUNS=20000 FC_SEED=random vitest run test/properties.test.ts` to hunt. */
const runs = fcRuns(20261124);

/** Writes a rule set the untidy ways the language allows: any spacing, line breaks and comments, both table forms. */
const spaces = fc.constantFrom('', ' ', '  ', '\t', ' \t ');
const commentText = fc.string({ unit: 'grapheme-ascii', maxLength: 12 }).map((s) => s.replace(/[\r\n]/g, ''));
const inside = fc.oneof(
  { weight: 4, arbitrary: spaces },
  { weight: 1, arbitrary: spaces.map((s) => `${s}\n  `) },
  { weight: 1, arbitrary: fc.tuple(spaces, commentText).map(([s, c]) => `${s}# ${c}\n\n   `) },
);

function untidyArb(ruleSet: RuleSet): fc.Arbitrary<string> {
  const route = (r: Route): fc.Arbitrary<string> =>
    fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()).map(([suffix, explicit, short]) => {
      const network =
        short && r.prefix.endsWith(r.family === 'ipv4' ? '/32' : '/128')
          ? r.prefix.replace(/\/\d+$/, '')
          : r.prefix;
      if (r.table === DEFAULT_TABLE && !explicit) return network;
      return suffix ? `${network}%${r.table}` : `${r.table}%${network}`;
    });
  const join = (parts: readonly fc.Arbitrary<string>[], sep: fc.Arbitrary<string>): fc.Arbitrary<string> =>
    fc
      .tuple(fc.tuple(...parts), fc.array(sep, { minLength: parts.length, maxLength: parts.length }))
      .map(([ps, seps]) => ps.map((p, i) => (i === 0 ? p : `${seps[i] ?? ''}${p}`)).join(''));
  const list = (head: string, items: readonly fc.Arbitrary<string>[]): fc.Arbitrary<string> =>
    fc
      .tuple(
        spaces,
        inside,
        inside,
        join(
          items,
          fc.tuple(inside, inside).map(([a, b]) => `${a},${b}`),
        ),
      )
      .map(([a, b, c, body]) => `${head}${a}(${b}${body}${c})`);
  const expr = (e: Expr, top: boolean): fc.Arbitrary<string> => {
    switch (e.type) {
      case 'proxy': {
        const kind = e.side === 'backend' ? 'b' : 'f';
        if (!e.threshold)
          return fc.tuple(spaces, spaces).map(([a, b]) => `${kind}${top ? '' : a}:${b}${e.name}`);
        const t = e.threshold;
        return fc
          .tuple(spaces, spaces)
          .map(([a, b]) => `${kind}:${e.name}${a}>=${b}${t.value}${t.kind === 'percent' ? '%' : ''}`);
      }
      case 'const':
        return fc.constantFrom(String(e.value), `${e.value}()`, `${e.value} ( )`);
      case 'not':
        return list('not', [expr(e.arg, false)]);
      case 'atleast':
        return list('atleast', [fc.constant(String(e.n)), ...e.args.map((a) => expr(a, false))]);
      case 'all':
      case 'any':
        return list(
          e.type,
          e.args.map((a) => expr(a, false)),
        );
    }
  };
  const attributes = (a: RouteAttributes): fc.Arbitrary<string> => {
    const parts = [
      ...(a.med === undefined ? [] : [`med ${a.med}`]),
      ...(a.localPref === undefined ? [] : [`local-pref ${a.localPref}`]),
    ];
    return fc
      .tuple(fc.shuffledSubarray(parts, { minLength: parts.length, maxLength: parts.length }), spaces)
      .map(([single, s]) =>
        [
          ...single,
          ...(a.communities ?? []).map(([x, y]) => `community ${x}:${y}`),
          ...(a.largeCommunities ?? []).map(([x, y, z]) => `large-community ${x}:${y}:${z}`),
        ].join(`${s},${s}`),
      );
  };
  const rules = ruleSet.rules.map((rule) =>
    fc
      .tuple(
        spaces,
        join(
          rule.routes.map(route),
          fc.tuple(spaces, spaces).map(([a, b]) => `${a},${b}`),
        ),
        fc.tuple(spaces, spaces).map(([a, b]) => `${a}=${b}`),
        expr(rule.expr, true),
        rule.attributes ? attributes(rule.attributes).map((a) => ` with ${a}`) : fc.constant(''),
        fc.option(
          commentText.map((c) => ` #${c}`),
          { nil: '' },
        ),
      )
      .map((parts) => parts.join('')),
  );
  return fc
    .tuple(
      fc.tuple(...rules),
      fc.array(fc.constantFrom('\n', '\n\n', '\n# note\n', '\r\n'), {
        minLength: rules.length,
        maxLength: rules.length,
      }),
    )
    .map(([rs, seps]) => rs.map((r, i) => `${r}${seps[i] ?? '\n'}`).join(''));
}

/** The language definition (issue 2), written independently of src/evaluate.ts. */
function meaning(e: Expr, state: HealthState): boolean {
  switch (e.type) {
    case 'const':
      return e.value;
    case 'not':
      return !meaning(e.arg, state);
    case 'all':
      return e.args.every((a) => meaning(a, state));
    case 'any':
      return e.args.some((a) => meaning(a, state));
    case 'atleast':
      return e.args.filter((a) => meaning(a, state)).length >= e.n;
    case 'proxy': {
      const known: Readonly<Record<string, BackendHealth>> =
        e.side === 'backend' ? state.backends : state.frontends;
      const health = Object.hasOwn(known, e.name) ? known[e.name] : undefined;
      if (!health) return false;
      if (!e.threshold) return health.up;
      const { serversUp: up, serversTotal: total } = health;
      if (up === undefined || total === undefined) return false;
      return e.threshold.kind === 'count'
        ? up >= e.threshold.value
        : total > 0 && up / total >= e.threshold.value / 100;
    }
  }
}

describe('properties of valid rule sets', () => {
  it('parse(format(x)) is x, with no errors', () => {
    fc.assert(
      fc.property(ruleSetArb, (x) => {
        const result = parse(format(x));
        expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        expect(result.ruleSet).toEqual(x);
      }),
      runs,
    );
  });

  it('format is idempotent, and formatSource leaves formatted text unchanged', () => {
    fc.assert(
      fc.property(ruleSetArb, (x) => {
        const text = format(x);
        expect(format(parse(text).ruleSet)).toBe(text);
        expect(formatSource(text)).toMatchObject({ ok: true, changed: false, text });
      }),
      runs,
    );
  });

  it('any spacing, line breaks inside parentheses, comments and table forms mean the same rule set', () => {
    fc.assert(
      fc.property(
        ruleSetArb.chain((x) => fc.tuple(fc.constant(x), untidyArb(x))),
        ([x, text]) => {
          const result = parse(text);
          expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
          expect(result.ruleSet).toEqual(x);
          const formatted = formatSource(text);
          if (!formatted.ok) throw new Error('formatSource failed');
          expect(parse(formatted.text).ruleSet).toEqual(x);
          expect(formatSource(formatted.text)).toMatchObject({ ok: true, changed: false });
          expect(ruleSetHash(result.ruleSet)).toBe(ruleSetHash(x));
        },
      ),
      runs,
    );
  });

  it('validateRuleSet accepts the JSON of any valid rule set and returns it', () => {
    fc.assert(
      fc.property(ruleSetArb, (x) => {
        expect(validateRuleSet(JSON.parse(JSON.stringify(x)))).toMatchObject({ ok: true, ruleSet: x });
      }),
      runs,
    );
  });

  it('evaluate gives one decision per route, agreeing with the language definition and its explanation', () => {
    const names = fc.constantFrom('be_app', 'be_static', 'fe_web', 'k8s_servers', 'be.app', 'fe:443', 'a-b');
    const stateArb: fc.Arbitrary<HealthState> = fc.record({
      frontends: fc.dictionary(names, fc.record({ up: fc.boolean() })),
      backends: fc.dictionary(
        names,
        fc.integer({ min: 0, max: 8 }).chain((total) =>
          fc.record(
            {
              up: fc.boolean(),
              serversUp: fc.integer({ min: 0, max: total }),
              serversTotal: fc.constant(total),
            },
            { requiredKeys: ['up'] },
          ),
        ),
      ),
    });
    fc.assert(
      fc.property(ruleSetArb, stateArb, (x, state) => {
        const decisions = evaluate(x, state);
        expect(decisions.map((d) => `${d.table}%${d.prefix}`)).toEqual(
          x.rules.flatMap((r) => r.routes.map((t) => `${t.table}%${t.prefix}`)),
        );
        const expected = x.rules.flatMap((r) => r.routes.map(() => meaning(r.expr, state)));
        expect(decisions.map((d) => d.advertise)).toEqual(expected);
        for (const d of decisions) {
          expect(d.explanation.value).toBe(d.advertise);
          expect(d.reason).not.toContain('\n');
        }
      }),
      runs,
    );
  });
});

describe('the parser never throws', () => {
  it('on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), checkAnyText), runs);
  });

  it('on arbitrary full-Unicode strings', () => {
    // Any code point, lone surrogates included (fc.string({ unit: 'binary' }) is as good but slow to generate).
    const text = fc
      .array(fc.integer({ min: 0, max: 0x10ffff }), { maxLength: 200 })
      .map((cs) => String.fromCodePoint(...cs));
    fc.assert(fc.property(text, checkAnyText), runs);
  });

  it('on strings made of grammar characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...grammarChars), maxLength: 120 }), checkAnyText),
      runs,
    );
  });

  it('on mutations of valid rule text, canonical or untidy', () => {
    const edit = fc.record({
      at: fc.nat(),
      remove: fc.nat({ max: 3 }),
      insert: fc.string({ unit: fc.constantFrom(...grammarChars), maxLength: 3 }),
    });
    const validText = ruleSetArb.chain((x) => fc.oneof(fc.constant(format(x)), untidyArb(x)));
    fc.assert(
      fc.property(validText, fc.array(edit, { minLength: 1, maxLength: 5 }), (valid, edits) => {
        let text = valid;
        for (const e of edits) {
          const at = text.length ? e.at % (text.length + 1) : 0;
          text = `${text.slice(0, at)}${e.insert}${text.slice(at + e.remove)}`;
        }
        checkAnyText(text);
      }),
      { ...runs, numRuns: runs.numRuns * 2 },
    );
  });
});

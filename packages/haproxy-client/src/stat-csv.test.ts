import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIXTURE_EXPECTED } from '../test/support/fixture-config.js';
import { fixture, fixtureReply } from '../test/support/fixtures.js';
import { HaproxyMalformedReplyError } from './errors.js';
import { ReplyReader } from './reply-reader.js';
import { parseStat, statValue } from './stat-csv.js';

const full = fixtureReply('show-stat.txt');
const lines = full.split('\n').filter((l) => l !== '');

describe('parseStat over HAProxy 2.6 captures', () => {
  const table = parseStat(full);

  it('reads every column of the header, without the trailing comma', () => {
    const header = lines[0]!.slice(2).split(',');
    expect(header.at(-1)).toBe('');
    expect(table.columns).toEqual(header.slice(0, -1));
    expect(table.columns.slice(0, 2)).toEqual(['pxname', 'svname']);
    expect(table.columnIndex.get('status')).toBe(17);
    expect(table.columnIndex.get('type')).toBe(32);
  });

  it('returns one row per line with as many values as columns', () => {
    expect(table.rows).toHaveLength(lines.length - 1);
    for (const row of table.rows) expect(row.values).toHaveLength(table.columns.length);
  });

  it('gives the status of every frontend, backend and server of the fixture config', () => {
    const status = (proxy: string, name: string): string | undefined =>
      table.rows.find((r) => r.proxy === proxy && r.name === name)?.status;
    for (const [fe, s] of Object.entries(FIXTURE_EXPECTED.frontends)) expect(status(fe, 'FRONTEND')).toBe(s);
    for (const [be, s] of Object.entries(FIXTURE_EXPECTED.backends)) expect(status(be, 'BACKEND')).toBe(s);
    for (const [id, s] of Object.entries(FIXTURE_EXPECTED.servers)) {
      const [be, srv] = id.split('/');
      expect(status(be!, srv!)).toBe(s);
    }
  });

  it('types rows from the type column, listeners included', () => {
    const types = new Map(table.rows.map((r) => [`${r.proxy}/${r.name}`, r.type]));
    expect(types.get('fe_open/FRONTEND')).toBe('frontend');
    expect(types.get('be_mixed/BACKEND')).toBe('backend');
    expect(types.get('be_mixed/up1')).toBe('server');
    expect(types.get('li_sockets/sock1')).toBe('listener');
  });

  it('reads other columns by name', () => {
    const bk1 = table.rows.find((r) => r.name === 'bk1')!;
    expect(statValue(table, bk1, 'bck')).toBe('1');
    expect(statValue(table, bk1, 'check_status')).toBe('L7OK');
    expect(statValue(table, bk1, 'no_such_column')).toBeUndefined();
  });

  it('keeps only frontends and backends in the show stat -1 3 -1 capture', () => {
    const fb = parseStat(fixtureReply('show-stat-fe-be.txt'));
    expect(new Set(fb.rows.map((r) => r.type))).toEqual(new Set(['frontend', 'backend']));
    expect(fb.rows.filter((r) => r.type === 'backend').map((r) => r.proxy)).toEqual(
      table.rows.filter((r) => r.type === 'backend').map((r) => r.proxy),
    );
  });

  it('shows (up/total) after the backend status with the up option', () => {
    const up = parseStat(fixtureReply('show-stat-up.txt'));
    const be = up.rows.find((r) => r.proxy === 'be_empty' && r.type === 'backend');
    expect(be?.status).toBe('UP (0/0)');
  });

  it('accepts the raw reply with its terminating empty line', () => {
    expect(parseStat(fixture('show-stat.txt')).rows).toHaveLength(table.rows.length);
  });

  it('ignores columns added by newer versions, wherever they are', () => {
    const extended = lines.map((l, i) => `${l}${i === 0 ? 'srid,new_metric' : '7,"x,y"'},`).join('\n');
    const parsed = parseStat(extended);
    expect(parsed.rows.map((r) => r.status)).toEqual(table.rows.map((r) => r.status));
    expect(statValue(parsed, parsed.rows[0]!, 'new_metric')).toBe('x,y');
  });
});

describe('parseStat over the pieces of a large reply', () => {
  // A 1,000-backend-sized reply: the capture's rows repeated under new proxy names (about 320 kB).
  const body = lines.slice(1);
  const large = [
    lines[0],
    ...Array.from({ length: 40 }, (_, i) => body.map((l) => `p${i}_${l}`)).flat(),
    '',
  ].join('\n');
  const pieces = new ReplyReader().pushPieces(new TextEncoder().encode(`${large}\n`))[0]!;
  const view = (t: ReturnType<typeof parseStat>) =>
    t.rows.map((r) => [r.proxy, r.name, r.type, r.status, r.backup, r.sessions, r.values]);

  it('reads the same rows from pieces as from the whole text', () => {
    expect(pieces.length).toBeGreaterThan(3);
    expect(view(parseStat(pieces))).toEqual(view(parseStat(large)));
    expect(parseStat(pieces).rows).toHaveLength(body.length * 40);
  });
});

describe('parseStat CSV quoting', () => {
  const header = lines[0]!;

  it('unquotes fields and undoubles quotes', () => {
    const row = lines.find((l) => l.startsWith('be_mixed,down1,'))!.split(',');
    row[64] = '"Connection ""refused"", twice"';
    const parsed = parseStat(`${header}\n${row.join(',')}\n`);
    expect(statValue(parsed, parsed.rows[0]!, parsed.columns[64]!)).toBe('Connection "refused", twice');
    expect(parsed.rows[0]!.status).toBe('DOWN');
    expect(parsed.rows[0]!.values).toHaveLength(parsed.columns.length);
  });

  it('round-trips any values written the way HAProxy quotes them', () => {
    const value = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', ' ', 'é', '1', '\n') });
    const quote = (v: string): string => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
    // Pieces as ReplyReader.pushPieces cuts them: at line ends, here at every one (even inside quotes).
    const pieces = (text: string): string[] => text.split(/(?<=\n)/);
    fc.assert(
      fc.property(fc.array(fc.tuple(value, value, value), { maxLength: 5 }), (rows) => {
        const text = [
          '# pxname,svname,status,type,extra,',
          ...rows.map(([a, b, c]) => `${quote(a)},${quote(b)},${quote(c)},2,${quote(a + c)},`),
        ].join('\n');
        for (const input of [`${text}\n`, pieces(`${text}\n`)]) {
          const parsed = parseStat(input);
          expect(parsed.rows.map((r) => [r.proxy, r.name, r.status, r.values[4]])).toEqual(
            rows.map(([a, b, c]) => [a, b, c, a + c]),
          );
        }
      }),
    );
  });
});

function withType(row: string, type: string): string {
  const values = row.split(',');
  values[32] = type;
  return values.join(',');
}

describe('parseStat on malformed replies', () => {
  const header = lines[0]!;
  const row = lines[1]!;
  it.each([
    ['an error text instead of CSV', 'No such proxy.\n', 'No such proxy.'],
    ['an empty reply', '', ''],
    [
      'a header without a type column',
      '# pxname,svname,status,\nfe,FRONTEND,OPEN,\n',
      '# pxname,svname,status,',
    ],
    ['a non-numeric type', `${header}\n${withType(row, 'x')}\n`, 'fe_open,FRONTEND'],
    ['an unknown type', `${header}\n${withType(row, '9')}\n`, 'fe_open,FRONTEND'],
    ['an empty type', `${header}\n${withType(row, '')}\n`, 'fe_open,FRONTEND'],
    ['a truncated row', `${header}\nfe_open,FRONTEND,,\n`, 'fe_open,FRONTEND,,'],
    ['an unterminated quote', `${header}\n"fe_open,FRONTEND\n`, '"fe_open,FRONTEND'],
    ['text after a closing quote', `${header}\n"fe"x,FRONTEND\n`, '"fe"x,FRONTEND'],
  ])('throws HAPROXY_MALFORMED_REPLY with the offending text for %s', (_name, text, offending) => {
    let caught: unknown;
    try {
      parseStat(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(HaproxyMalformedReplyError);
    expect((caught as HaproxyMalformedReplyError).code).toBe('HAPROXY_MALFORMED_REPLY');
    expect((caught as HaproxyMalformedReplyError).text).toContain(offending);
  });
});

import { test } from 'vitest';
import { buildHealthSnapshot, parseInfo, parseStat } from '../src/index.js';
import { fixtureReply } from '../test/support/fixtures.js';

// 100 backends x 100 servers, built from rows captured from HAProxy 2.6 (129 columns each).
const captured = fixtureReply('show-stat.txt').split('\n');
const header = captured[0]!;
const serverRow = captured.find((l) => l.startsWith('be_mixed,up1,'))!;
const backendRow = captured.find((l) => l.startsWith('be_mixed,BACKEND,'))!;
const lines = [header];
for (let b = 0; b < 100; b++) {
  for (let s = 0; s < 100; s++) lines.push(serverRow.replace('be_mixed,up1,', `be_${b},srv_${s},`));
  lines.push(backendRow.replace('be_mixed,', `be_${b},`));
}
const text = `${lines.join('\n')}\n`;
const info = parseInfo(fixtureReply('show-info.txt'));
const table = parseStat(text);
if (table.rows.length !== 10_100) throw new Error('bad benchmark input');

test('show stat with 10,000 servers, 129 columns (goal: parse under 10 ms)', async ({ bench }) => {
  await bench.compare(
    bench('parseStat', () => {
      parseStat(text);
    }),
    bench('parseStat + buildHealthSnapshot', () => {
      buildHealthSnapshot(info, parseStat(text), { readAt: 0, withServers: true });
    }),
  );
});

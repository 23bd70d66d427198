import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startBgpPair, startHaproxy } from '@rhi/test-support';
import { test } from 'vitest';
import { bigRuleSet } from '../test/support/big-rule-set.js';
import { runBenchChild } from './run-child.js';

// How long judging a new rule set holds up the agent's main thread (the failover path), off the main
// thread (the rule-set worker, as shipped) against on it (the same examination in the main thread, as
// before the worker), measured in the same run: child processes with the systemd unit's Node flags and
// environment, each the agent in-process (bench/rule-set-judging.child.mjs) against a real HAProxy of
// 2,500 backends and 100 frontends (every proxy the rules name) and its BIRD, alternating worker, inline,
// worker, inline. Each judges, per round, two variants of: 10,000 rules; a file at the 4 MiB limit
// (10,000 rules of 37 terms, 3.7 MB); a 20 MB file over it. The stall is the longest gap between the
// ticks of a 1 ms interval timer in the agent's process, less 1 ms, from `reloadRules()` until 200 ms
// after it resolved (the rule set applied, persisted). Absolute times wander on this shared VM: compare
// the two modes, measured minutes apart.

const ROUNDS = Number(process.env.RHI_BENCH_ROUNDS ?? 3);
const CHILDREN = Number(process.env.RHI_BENCH_CHILDREN ?? 2);
/** `worker`, `inline` or both (the default), in that order per child. */
const MODES = (process.env.RHI_BENCH_MODES ?? 'worker,inline').split(',').filter(Boolean);
/** More Node flags for the children, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the agent. */
const CHILD_NODE_ARGS = (process.env.RHI_BENCH_AGENT_NODE_ARGS ?? '').split(' ').filter(Boolean);
const child = fileURLToPath(new URL('./rule-set-judging.child.mjs', import.meta.url));

interface Timed {
  readonly ms: number;
  readonly stallMs: number;
  /** The longest garbage collection of the main thread in the same time. */
  readonly gcMs: number;
  readonly verdict: string;
}
interface Judgment {
  readonly input: string;
  readonly round: number;
  /** Judging alone: read, examined, the verdict. */
  readonly judging: Timed;
  /** The agent's `reloadRules()`: judged and applied. */
  readonly agent: Timed;
  /** A health event at the rule set in force. */
  readonly event: { readonly stallMs: number; readonly gcMs: number };
}
interface Memory {
  readonly rssMb: number;
  readonly privateMb: number;
}
interface ChildResult {
  readonly mode: 'worker' | 'inline';
  readonly idleStallMs: number;
  readonly before: Memory;
  readonly after: Memory;
  readonly later: Memory;
  readonly judgments: readonly Judgment[];
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? ((s[(s.length - 1) >> 1] ?? 0) + (s[s.length >> 1] ?? 0)) / 2 : NaN;
};
const max = (xs: readonly number[]) => Math.max(...xs);
const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

test('the longest main-thread stall while judging a rule set, off and on the main thread', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rhi-bench-judge-'));
  const sections = [
    ...Array.from(
      { length: 100 },
      (_, i) => `frontend fe_${i}\n    bind unix@${dir}/fe_${i}.sock\n    default_backend be_0`,
    ),
    ...Array.from({ length: 2500 }, (_, i) => `backend be_${i}\n    server s1 127.0.0.1:9 disabled`),
  ];
  const haproxy = await startHaproxy({ sections: sections.join('\n') });
  const pair = await startBgpPair({ exports: ['vol1', 'vol2'], includeOnTmpfs: true });
  try {
    const ten = bigRuleSet(10_000).text;
    const heavy = bigRuleSet(10_000, 37).text;
    const files = {
      '10,000 rules': [ten, ten.replaceAll('med 10,', 'med 11,')],
      '4 MiB limit (10,000 rules of 37 terms)': [heavy, heavy.replaceAll('= any(', '= all(')],
      '20 MB, over the limit': [ten.repeat(36), ten.replaceAll('med 10,', 'med 12,').repeat(36)],
    };
    const inputs: { label: string; files: string[] }[] = [];
    for (const [label, texts] of Object.entries(files)) {
      const paths: string[] = [];
      for (const [i, text] of texts.entries()) {
        const path = join(dir, `input-${inputs.length}-${i}.cfg`);
        await writeFile(path, text);
        paths.push(path);
      }
      inputs.push({ label, files: paths });
    }
    const inputsFile = join(dir, 'inputs.json');
    await writeFile(inputsFile, JSON.stringify(inputs));
    const load = [loadavg()[1]];
    const results: ChildResult[] = [];
    for (let c = 0; c < CHILDREN; c++) {
      for (const mode of MODES) {
        const state = join(dir, `state-${c}-${mode}`);
        const config = join(dir, `agent-${c}-${mode}.yaml`);
        await writeFile(join(dir, 'rules.cfg'), '198.18.0.1 = all(f:fe_0, b:be_0)\n');
        await writeFile(
          config,
          `node: { name: bench }
haproxy: { sockets: [${haproxy.adminSocket}], eventRing: events, pollIntervalMs: 60000 }
bird: { socket: ${pair.node.socket}, include: ${pair.includePath}, tables: { vol1: {}, vol2: {} } }
rules: { file: ${join(dir, 'rules.cfg')}, settleMs: 600000 }
allowlist: [198.18.0.0/24]
damping: { rise: { count: 1, ms: 0 } }
policies: { withdrawOnStop: false }
admin: { listen: 127.0.0.1:${await freePort()}, socket: ${join(dir, `admin-${c}-${mode}.sock`)} }
stateDir: ${state}
`,
        );
        await mkdir(state, { recursive: true });
        const r = await runBenchChild<ChildResult>(
          child,
          [config, mode, inputsFile, String(ROUNDS)],
          `the ${mode} child`,
          CHILD_NODE_ARGS,
        );
        results.push(r);
        process.stderr.write(
          `${mode}: ${r.judgments.map((j) => `${j.input.slice(0, 8)} ${f(j.judging.stallMs)}/${f(j.agent.stallMs)}/${f(j.event.stallMs)}`).join('; ')}\n`,
        );
      }
    }
    const modes = ['worker', 'inline'] as const;
    const name = { worker: 'worker (off the main thread)', inline: 'inline (on it)' };
    const pick = (mode: string, label: string) =>
      results.filter((r) => r.mode === mode).map((r) => r.judgments.filter((j) => j.input === label));
    /** Per input and mode: the first judgment of each child (cold) and the later ones. */
    const table = (what: 'judging' | 'agent') => {
      const rows = [
        '| input | mode | verdict | longest stall: first (cold) | later: median / max | longest GC pause in them: median / max | time to the verdict: first / later median |',
        '| --- | --- | --- | ---: | ---: | ---: | ---: |',
      ];
      const ratios: string[] = [];
      for (const { label } of inputs) {
        const stats: Partial<Record<(typeof modes)[number], { median: number; max: number }>> = {};
        for (const mode of modes) {
          const js = pick(mode, label);
          const first = js.flatMap((j) => j.slice(0, 1).map((x) => x[what]));
          const later = js.flatMap((j) => j.slice(1).map((x) => x[what]));
          const stalls = later.map((t) => t.stallMs);
          stats[mode] = { median: median(stalls), max: max([...first, ...later].map((t) => t.stallMs)) };
          const verdicts = [...new Set([...first, ...later].map((t) => t.verdict))].join(', ');
          rows.push(
            `| ${label} | ${name[mode]} | ${verdicts} | ${first.map((t) => f(t.stallMs)).join(', ')} ms | ${f(median(stalls))} / ${f(max(stalls))} ms | ${f(median([...first, ...later].map((t) => t.gcMs)))} / ${f(max([...first, ...later].map((t) => t.gcMs)))} ms | ${first.map((t) => f(t.ms)).join(', ')} / ${f(median(later.map((t) => t.ms)))} ms |`,
          );
        }
        const { worker: w, inline: i } = stats;
        if (w && i)
          ratios.push(
            `${label}: median stall inline / worker ${f(i.median)} / ${f(w.median)} ms = ${(i.median / w.median).toFixed(1)}x; longest ${f(i.max)} / ${f(w.max)} ms = ${(i.max / w.max).toFixed(1)}x`,
          );
      }
      return [...rows, '', ...ratios];
    };
    const events = [
      '| rule set in force | mode | longest stall of a health event: median / max | longest GC pause in it: median / max |',
      '| --- | --- | ---: | ---: |',
      ...inputs.flatMap(({ label }) =>
        modes.map((mode) => {
          const events = pick(mode, label).flatMap((j) => j.map((x) => x.event));
          const stalls = events.map((e) => e.stallMs);
          const gcs = events.map((e) => e.gcMs);
          return `| ${label} | ${name[mode]} | ${f(median(stalls))} / ${f(max(stalls))} ms | ${f(median(gcs))} / ${f(max(gcs))} ms |`;
        }),
      ),
    ];
    const memory = [
      '| mode | idle stall (nothing judged, 300 ms) | RSS / private MB before | after the rounds | 30 s later |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...results.map(
        (r) =>
          `| ${r.mode} | ${f(r.idleStallMs)} ms | ${f(r.before.rssMb)} / ${f(r.before.privateMb)} | ${f(r.after.rssMb)} / ${f(r.after.privateMb)} | ${f(r.later.rssMb)} / ${f(r.later.privateMb)} |`,
      ),
    ];
    load.push(loadavg()[1]);
    console.log(
      [
        `Load average (5 min) at the start and the end: ${load.map((l) => (l ?? 0).toFixed(2)).join(', ')}`,
        '',
        'Judging alone (read, examined, verdict):',
        ...table('judging'),
        '',
        "The agent's reloadRules() (judged and applied):",
        ...table('agent'),
        '',
        ...events,
        '',
        ...memory,
      ].join('\n'),
    );
  } finally {
    await Promise.allSettled([haproxy.stop(), pair.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}, 1_800_000);

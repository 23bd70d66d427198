/** One scenario's line in the run's report. */
export interface ScenarioResult {
  readonly scenario: string;
  readonly passed: boolean;
  /** Measured times, e.g. `{ 'death to withdraw (ms)': 412 }`. */
  readonly measured: Record<string, number>;
  readonly sent: number;
  readonly failed: number;
}

/** The report printed at the end of a run: one row per scenario. Pure. */
export function formatReport(results: readonly ScenarioResult[], logsDir: string | null): string {
  const rows = results.map((r) => [
    r.scenario,
    r.passed ? 'pass' : 'FAIL',
    Object.entries(r.measured)
      .map(([k, v]) => `${k} ${Math.round(v)}`)
      .join(', ') || '-',
    String(r.sent),
    String(r.failed),
  ]);
  const header = ['scenario', 'result', 'measured', 'requests', 'failed'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [
    'rhi e2e fleet report',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    ...(logsDir ? [`logs of the failed scenarios' containers: ${logsDir}`] : []),
  ].join('\n');
}

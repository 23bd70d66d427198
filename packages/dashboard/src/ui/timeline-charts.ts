import { useMemo } from 'preact/hooks';
import uPlot from 'uplot';
import { advertiserSummary, type AdvertiserSeries } from '../model/advertiser-series.js';
import { transitionRateSummary, type TransitionRate } from '../model/transition-rate.js';
import { Chart, SERIES_STYLES, themeColour, type ChartOptions } from './chart.js';
import { html } from './html.js';

const HEIGHT = 160;
const seconds = (ms: readonly number[]) => ms.map((t) => t / 1000);

function axes(): uPlot.Axis[] {
  const fg = themeColour('--muted', '#6b7075');
  const line = themeColour('--line', '#d9dcdf');
  const common = { stroke: fg, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } };
  // Counts are whole numbers: no tick between them.
  return [common, { ...common, size: 40, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] }];
}

function advertiserOptions(vips: readonly string[]): ChartOptions {
  return {
    series: [
      {},
      ...vips.map((vip, i) => {
        const s = SERIES_STYLES[i % SERIES_STYLES.length]!;
        return {
          label: vip,
          stroke: s.stroke,
          dash: s.dash,
          width: 2,
          paths: uPlot.paths.stepped!({ align: 1 }),
        };
      }),
    ],
    axes: axes(),
    scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max + 1)] } },
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
  };
}

function transitionOptions(): ChartOptions {
  return {
    series: [
      {},
      {
        label: 'route transitions',
        stroke: themeColour('--info', '#0b61a4'),
        fill: themeColour('--info', '#0b61a4'),
        paths: uPlot.paths.bars!({ size: [0.9, 24], align: 1 }),
        points: { show: false },
      },
    ],
    axes: axes(),
    scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
  };
}

export interface TimelineChartsProps {
  readonly advertisers: AdvertiserSeries;
  readonly rate: TransitionRate;
  readonly timeText: (t: number) => string;
  /** Why the advertiser counts may be partial (a node filter sent to the API), or null. */
  readonly advertisersNote: string | null;
}

/** The two small charts of the timeline: advertisers per VIP over time, route transitions per minute. */
export function TimelineCharts({ advertisers, rate, timeText, advertisersNote }: TimelineChartsProps) {
  const vips = advertisers.series.map((s) => s.vip);
  const advertiserData = useMemo(
    () => [seconds(advertisers.times), ...advertisers.series.map((s) => [...s.counts])] as uPlot.AlignedData,
    [advertisers],
  );
  const rateData = useMemo(() => [seconds(rate.starts), [...rate.counts]] as uPlot.AlignedData, [rate]);
  const per = rate.minutes === 1 ? 'minute' : `${rate.minutes} minutes`;
  return html`<div class="timeline-charts">
    <figure class="chart" data-chart="advertisers">
      ${
        vips.length > 0
          ? html`<${Chart}
              chartKey=${vips.join(' ')}
              options=${() => advertiserOptions(vips)}
              data=${advertiserData}
              height=${HEIGHT}
            />`
          : null
      }
      <figcaption>
        <strong>Advertisers per VIP</strong> (nodes advertising it, from its route events):${' '}
        ${advertiserSummary(advertisers, timeText)}${advertisersNote ? html` <span class="muted">(${advertisersNote})</span>` : null}
      </figcaption>
    </figure>
    <figure class="chart" data-chart="transitions">
      <${Chart}
        chartKey=${`rate ${rate.minutes}`}
        options=${transitionOptions}
        data=${rateData}
        height=${HEIGHT}
      />
      <figcaption>
        <strong>Route transitions per ${per}</strong>: ${transitionRateSummary(rate, timeText)}
      </figcaption>
    </figure>
  </div>`;
}

import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from './html.js';

/** What a chart draws: the x values (epoch seconds) and one y array per series. */
export type ChartData = uPlot.AlignedData;

/** The options of a chart but its size, which follows its box. */
export type ChartOptions = Omit<uPlot.Options, 'width' | 'height'>;

export interface ChartProps {
  /** Made once per set of series: a change of `key` draws the chart anew, new data only redraws it. */
  readonly chartKey: string;
  readonly options: () => ChartOptions;
  readonly data: ChartData;
  readonly height: number;
}

/**
 * A uPlot chart in a box as wide as its parent, redrawn with new data and resized with its box. uPlot
 * builds its own elements and sets their sizes through `element.style` (the CSSOM), which a CSP without
 * `'unsafe-inline'` allows; its style sheet is packed into the page's (`scripts/pack-assets.mjs`).
 * Hidden from assistive technology: the figure's caption says the same in words.
 */
export function Chart({ chartKey, options, data, height }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = () => Math.max(200, Math.floor(el.clientWidth));
    const u = new uPlot({ ...options(), width: width(), height }, data, el);
    plot.current = u;
    const resize = new ResizeObserver(() => {
      if (Math.abs(u.width - width()) >= 2) u.setSize({ width: width(), height });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [chartKey, height]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return html`<div class="chart-plot" ref=${box} aria-hidden="true"></div>`;
}

/** A colour of the page's theme (a `--name` custom property), for what uPlot draws on its canvas. */
export function themeColour(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v === '' ? fallback : v;
}

/**
 * Series colours told apart by people with any colour vision (Okabe and Ito), each also drawn with its
 * own dash, and named in the legend.
 */
export const SERIES_STYLES: readonly { readonly stroke: string; readonly dash: number[] }[] = [
  { stroke: '#0072b2', dash: [] },
  { stroke: '#d55e00', dash: [6, 3] },
  { stroke: '#009e73', dash: [2, 2] },
  { stroke: '#cc79a7', dash: [8, 3, 2, 3] },
];

// Charts of the home dashboard, drawn by uPlot. A chart is decoration for sighted readers:
// each comes in a <figure> whose caption sums it up in words and whose table holds every
// figure it draws, so a screen reader (or anyone) reads the same numbers.

import uPlot from "uplot";
import { h } from "./dom";

export interface Line {
  label: string;
  values: (number | null)[];
  colour: string;
  dash?: number[];
  /** Drawn as bars rather than a line. */
  bars?: boolean;
}

export interface ChartSpec {
  title: string;
  /** One or two sentences that say what the chart shows. */
  summary: string;
  /** The first column's heading and the labels of its rows (days, weeks, months). */
  xLabel: string;
  xLabels: string[];
  /** The x positions, as Unix times in seconds. */
  xs: number[];
  lines: Line[];
  /** How a value reads in the table ("12.5 h", "3"). */
  format(value: number): string;
  testId: string;
}

const HEIGHT = 220;

/** A figure: the chart, its caption, and its figures as a table (shown on request). */
export function chart(spec: ChartSpec): { element: HTMLElement; destroy(): void } {
  const plotBox = h("div", { class: "chart-plot", "aria-hidden": "true" });
  const table = h(
    "table",
    { class: "chart-table" },
    h("caption", { class: "visually-hidden" }, spec.title),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, spec.xLabel), spec.lines.map((line) => h("th", { scope: "col" }, line.label)))),
    h(
      "tbody",
      {},
      spec.xLabels.map((label, index) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, label),
          spec.lines.map((line) => {
            const value = line.values[index];
            return h("td", {}, value === null || value === undefined ? "–" : spec.format(value));
          }),
        ),
      ),
    ),
  );
  const element = h(
    "figure",
    { class: "chart", "data-testid": spec.testId },
    h("figcaption", {}, h("strong", {}, spec.title), " ", h("span", { class: "chart-summary" }, spec.summary)),
    plotBox,
    h("details", { class: "chart-data" }, h("summary", {}, `${spec.title}: the figures`), table),
  );
  let plot: uPlot | null = null;
  let observer: ResizeObserver | null = null;
  const draw = (): void => {
    const width = Math.max(260, Math.min(plotBox.clientWidth || 600, 900));
    if (plot) {
      plot.setSize({ width, height: HEIGHT });
      return;
    }
    const bars = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined;
    plot = new uPlot(
      {
        width,
        height: HEIGHT,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [
          { stroke: "currentColor", grid: { show: false } },
          { stroke: "currentColor", grid: { stroke: "rgba(128,128,128,0.25)" }, size: 56, values: (_, ticks) => ticks.map(compact) },
        ],
        series: [
          {},
          ...spec.lines.map((line) => ({
            label: line.label,
            stroke: line.colour,
            fill: line.bars ? line.colour : undefined,
            width: 2,
            dash: line.dash,
            spanGaps: true,
            paths: line.bars ? bars : undefined,
            points: { show: !line.bars && spec.xs.length < 20 },
          })),
        ],
      },
      [spec.xs, ...spec.lines.map((line) => line.values)] as uPlot.AlignedData,
      plotBox,
    );
  };
  // drawn once the figure is in the page (its width is known then), redrawn when it changes
  requestAnimationFrame(() => {
    if (!element.isConnected) return;
    draw();
    observer = new ResizeObserver(() => draw());
    observer.observe(plotBox);
  });
  return {
    element,
    destroy() {
      observer?.disconnect();
      plot?.destroy();
    },
  };
}

/** An axis label: 1.5, 250, 12k, 1.2M. */
function compact(value: number): string {
  const size = Math.abs(value);
  if (size >= 1_000_000) return `${+(value / 1_000_000).toFixed(1)}M`;
  if (size >= 10_000) return `${Math.round(value / 1000)}k`;
  if (size >= 1000) return `${+(value / 1000).toFixed(1)}k`;
  return String(+value.toFixed(1));
}

/** Unix seconds of an ISO day ("2026-03-01"), at 00:00 UTC. */
export function daySeconds(iso: string): number {
  const [year, month, day] = iso.split("-").map(Number);
  return Date.UTC(year ?? 1970, (month ?? 1) - 1, day ?? 1) / 1000;
}

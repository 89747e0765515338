/**
 * Plots with no dependency, in Node and browsers: each chart is a `Plot` with `.svg()`
 * (an SVG document), `.png()` (PNG bytes, rasterised here) and `.rgba()` (pixels for a
 * canvas). See docs/plot.md.
 */
export { Plot, PALETTE, parseColor } from './scene.js';
export {
  lineChart, barChart, confusionMatrixImage, imageGrid, historyChart, liveHistory, niceTicks,
} from './charts.js';
export type {
  ChartOptions, LineSeries, LineChartOptions, BarChartOptions, ConfusionMatrixImageOptions, GridImage, ImageGridOptions, HistoryLike, HistoryChartOptions,
  LiveHistoryOptions, LiveHistoryCallback,
} from './charts.js';

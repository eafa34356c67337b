// Bar charts as SVG markup, drawn here rather than with a charting library: the console needs
// two kinds (sales per day, revenue before/after a replay) and no dependency is smaller.

import { escape } from './lib.js';

/**
 * `labels`: x labels; `series`: up to two `{name, values}` drawn side by side; `format(v)`:
 * how a value reads in tooltips and on the y axis. Returns SVG markup.
 */
export function barChart({ labels, series, format = String, title = 'Chart', labelEvery = 1 }) {
  const width = 720;
  const height = 240;
  const left = 64;
  const bottom = 28;
  const top = 12;
  const plotW = width - left - 8;
  const plotH = height - top - bottom;
  const all = series.flatMap((s) => s.values.map((v) => Number(v) || 0));
  const max = Math.max(1, ...all);
  const n = Math.max(1, labels.length);
  const slot = plotW / n;
  const barW = Math.max(2, (slot * 0.8) / Math.max(1, series.length));
  let out = `<svg class="chart" role="img" aria-label="${escape(title)}" viewBox="0 0 ${width} ${height}">`;
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const y = top + plotH - (plotH * i) / 4;
    out += `<line class="grid-line" x1="${left}" x2="${width - 8}" y1="${y}" y2="${y}"></line>`;
    out += `<text class="axis" x="${left - 6}" y="${y + 3}" text-anchor="end">${escape(format(Math.round(v)))}</text>`;
  }
  labels.forEach((label, i) => {
    series.forEach((s, k) => {
      const v = Number(s.values[i]) || 0;
      const hgt = (plotH * v) / max;
      const x = left + i * slot + slot * 0.1 + k * barW;
      const y = top + plotH - hgt;
      out +=
        `<rect class="bar${k ? ' second' : ''}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${Math.max(0, hgt).toFixed(1)}">` +
        `<title>${escape(label)} · ${escape(s.name)}: ${escape(format(v))}</title></rect>`;
    });
    if (i % labelEvery === 0) {
      out += `<text class="tick" x="${(left + i * slot + slot / 2).toFixed(1)}" y="${height - 10}" text-anchor="middle">${escape(label)}</text>`;
    }
  });
  out += '</svg>';
  return out;
}

/** A legend for the series of a chart. */
export function chartLegend(series) {
  return (
    '<ul class="legend">' +
    series.map((s, k) => `<li class="${k ? 'series-2' : 'series-1'}">${escape(s.name)}</li>`).join('') +
    '</ul>'
  );
}

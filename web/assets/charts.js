// Small SVG charts drawn by hand: two kinds are all the dashboard needs, and a chart library would
// weigh more than the whole site. Each chart is a picture of a table shown beside it, so it is
// hidden from screen readers (the table carries the figures).
import { el, number } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// Horizontal bars, one per [label, value], labelled with `show(value)`.
export function bars(rows, show = number) {
  const rowHeight = 26;
  const labelWidth = 190;
  const width = 560;
  const height = rows.length * rowHeight + 4;
  const largest = Math.max(1, ...rows.map(([, value]) => value ?? 0));
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, "aria-hidden": "true", focusable: "false" });
  rows.forEach(([label, value], index) => {
    const y = index * rowHeight + 2;
    const length = Math.round(((value ?? 0) / largest) * (width - labelWidth - 110));
    chart.append(
      svg("text", { x: 0, y: y + 17 }, label),
      svg("rect", { class: "bar", x: labelWidth, y, width: Math.max(length, 1), height: rowHeight - 6 }),
      svg("text", { x: labelWidth + length + 6, y: y + 17 }, value === null || value === undefined ? "–" : show(value)),
    );
  });
  return chart;
}

// Vertical bars over time, [label, value] oldest first; the first and last labels under the axis.
export function columns(points) {
  const width = 560;
  const height = 180;
  const bottom = 150;
  const largest = Math.max(1, ...points.map(([, value]) => value));
  const step = (width - 50) / Math.max(points.length, 1);
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, "aria-hidden": "true", focusable: "false" });
  chart.append(svg("line", { class: "axis", x1: 45, y1: bottom, x2: width, y2: bottom }), svg("text", { x: 0, y: 12 }, number(largest)));
  points.forEach(([, value], index) => {
    const tall = Math.round((value / largest) * (bottom - 20));
    chart.append(svg("rect", { class: "bar", x: 47 + index * step, y: bottom - tall, width: Math.max(step - 2, 1), height: tall }));
  });
  if (points.length) {
    chart.append(svg("text", { x: 45, y: bottom + 18 }, points[0][0]));
    chart.append(svg("text", { x: width, y: bottom + 18, "text-anchor": "end" }, points[points.length - 1][0]));
  }
  return chart;
}

export function table(caption, headings, rows, { rowClass } = {}) {
  return el("table", {},
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, headings.map(([text, numeric]) => el("th", { scope: "col", class: numeric ? "num" : null }, text)))),
    el("tbody", {}, rows.map((cells, index) => el("tr", { class: rowClass?.(index) ?? null },
      cells.map(([text, numeric], column) => el(column === 0 ? "th" : "td", { scope: column === 0 ? "row" : null, class: numeric ? "num" : null }, text))))));
}

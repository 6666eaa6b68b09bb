// GreenLoop charts: small SVG line charts drawn from the API's JSON, no library and no inline code.
// The public page draws with these; they follow the dashboard's axes, grid and target line.
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  const W = 560, H = 220, PAD = { l: 48, r: 12, t: 12, b: 28 };

  function el(name, attrs, text) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // The top of an axis of four steps, each step 1, 2, 2.5 or 5 times a power of ten, so small values
  // read "0, 0.25, 0.5, 0.75, 1" rather than "0, 0, 1, 1, 1".
  function niceMax(value) {
    if (!(value > 0)) return 1;
    const raw = value / 4;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw);
    return step * 4;
  }

  function pct(value) {
    return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + "%";
  }

  function xOf(index, count) {
    return PAD.l + ((W - PAD.l - PAD.r) * (index + 0.5)) / Math.max(count, 1);
  }

  function yOf(value, maxY) {
    const plotH = H - PAD.t - PAD.b;
    return PAD.t + plotH - (plotH * value) / (maxY || 1);
  }

  function frame(container, attrs, maxY, formatY) {
    container.replaceChildren();
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "chart-svg", ...attrs });
    const plotH = H - PAD.t - PAD.b;
    for (let i = 0; i <= 4; i++) {
      const y = PAD.t + plotH - (plotH * i) / 4;
      svg.appendChild(el("line", { x1: PAD.l, x2: W - PAD.r, y1: y, y2: y, class: "grid" }));
      svg.appendChild(el("text", { x: PAD.l - 6, y: y + 4, class: "axis", "text-anchor": "end" }, formatY((maxY * i) / 4)));
    }
    container.appendChild(svg);
    return svg;
  }

  // A rate over labelled points (null: no data that point), with the target as a dashed line.
  function rateChart(container, { attrs, labels, values, target, targetWord }) {
    const maxY = Math.min(1, niceMax(Math.max(0.5, target || 0, ...values.filter((v) => v !== null)) * 1.1));
    const svg = frame(container, attrs || {}, maxY, (v) => Math.round(v * 100) + "%");
    if (target !== null && target !== undefined) {
      const y = yOf(target, maxY);
      svg.appendChild(el("line", { x1: PAD.l, x2: W - PAD.r, y1: y, y2: y, class: "target", "data-value": target }));
      svg.appendChild(el("text", { x: W - PAD.r, y: y - 4, class: "target-label", "text-anchor": "end" }, `${targetWord || ""} ${pct(target)}`));
    }
    const coords = [];
    values.forEach((value, i) => {
      if (value === null || value === undefined) return;
      const x = xOf(i, values.length), y = yOf(value, maxY);
      coords.push(`${x},${y}`);
      const dot = el("circle", { cx: x, cy: y, r: 3.5, class: "dot", "data-value": value, "data-label": labels[i] });
      dot.appendChild(el("title", {}, `${labels[i]}: ${pct(value)}`));
      svg.appendChild(dot);
    });
    svg.insertBefore(el("polyline", { points: coords.join(" "), class: "rate-line" }), svg.querySelector("circle"));
    const step = Math.max(1, Math.ceil(labels.length / 8));
    labels.forEach((text, i) => {
      if (i % step === 0) svg.appendChild(el("text", { x: xOf(i, labels.length), y: H - 8, class: "axis", "text-anchor": "middle" }, text));
    });
    return svg;
  }

  // A share against its target as a bar, as the dashboard's tables show it.
  function rateBar(value, target) {
    const svg = el("svg", { viewBox: "0 0 160 18", class: "ratebar", "data-value": value ?? "" });
    const full = target !== null && target > 0.7 ? 1 : 0.7;
    const scale = (v) => Math.min(160, (v * 160) / full);
    svg.appendChild(el("rect", { x: 0, y: 3, width: 160, height: 12, class: "track" }));
    if (value !== null) {
      svg.appendChild(el("rect", { x: 0, y: 3, width: scale(value), height: 12, class: target !== null && value >= target ? "fill good" : "fill" }));
    }
    if (target !== null) svg.appendChild(el("line", { x1: scale(target), x2: scale(target), y1: 0, y2: 18, class: "target" }));
    return svg;
  }

  window.GreenLoopCharts = { rateChart, rateBar, pct, niceMax };
})();

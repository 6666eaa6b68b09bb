// GreenLoop charts: small SVG charts drawn from the API's JSON, no library and no inline code.
// The dashboard and the public page both draw with these, so their axes, grid and target lines agree.
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

  // Axis labels with as many decimals as the step needs; tonnes from 4000 kg up.
  function amountLabel(maxY) {
    const step = maxY / 4;
    if (maxY >= 4000) return (v) => (v / 1000).toFixed(step / 1000 >= 1 ? 0 : 1) + "t";
    const decimals = Math.max(0, Math.min(3, -Math.floor(Math.log10(step) + 1e-9) + (step % 1 && step < 1 ? 1 : 0)));
    return (v) => Number(v.toFixed(decimals)).toString();
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

  function xLabels(svg, labels) {
    const step = Math.max(1, Math.ceil(labels.length / 8));
    labels.forEach((text, i) => {
      if (i % step === 0) svg.appendChild(el("text", { x: xOf(i, labels.length), y: H - 8, class: "axis", "text-anchor": "middle" }, text));
    });
  }

  function barWidth(count, share) {
    return Math.max(2, ((W - PAD.l - PAD.r) / Math.max(count, 1)) * share);
  }

  // A rate over labelled points (null: no data that point), with the target as a dashed line.
  // `pointAttrs(i)` adds attributes to a point's dot (what a test or a tooltip needs to find it by).
  function rateChart(container, { attrs, labels, values, target, targetWord, pointAttrs }) {
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
      const extra = pointAttrs ? pointAttrs(i) : {};
      const dot = el("circle", { cx: x, cy: y, r: 3.5, class: "dot", "data-value": value, "data-label": labels[i], ...extra });
      dot.appendChild(el("title", {}, `${labels[i]}: ${pct(value)}`));
      svg.appendChild(dot);
    });
    svg.insertBefore(el("polyline", { points: coords.join(" "), class: "rate-line" }), svg.querySelector("circle"));
    xLabels(svg, labels);
    return svg;
  }

  // Amounts stacked per point, one colour per stack (e.g. kilograms by waste category).
  // `valueAt(i, key)` is the amount of stack `key` at point i; `unit` follows the amount in a tooltip.
  function stackedBarChart(container, { attrs, labels, stacks, valueAt, unit, pointAttrs }) {
    const totals = labels.map((_, i) => stacks.reduce((sum, stack) => sum + (valueAt(i, stack.key) || 0), 0));
    const maxY = niceMax(Math.max(...totals, 0));
    const svg = frame(container, attrs || {}, maxY, amountLabel(maxY));
    const barW = barWidth(labels.length, 0.7);
    labels.forEach((text, i) => {
      let base = 0;
      for (const stack of stacks) {
        const amount = valueAt(i, stack.key) || 0;
        if (amount <= 0) continue;
        const y0 = yOf(base, maxY), y1 = yOf(base + amount, maxY);
        const extra = pointAttrs ? pointAttrs(i) : {};
        const bar = el("rect", {
          x: xOf(i, labels.length) - barW / 2, y: y1, width: barW, height: Math.max(0.5, y0 - y1),
          fill: stack.colour, class: "bar", "data-category": stack.key, "data-value": amount, ...extra,
        });
        bar.appendChild(el("title", {}, `${text} ${stack.name}: ${amount} ${unit || ""}`.trim()));
        svg.appendChild(bar);
        base += amount;
      }
    });
    xLabels(svg, labels);
    return svg;
  }

  // Whole counts as bars (e.g. participating households) with a rate on its own 0-110 % scale as a line.
  function countsWithRateChart(container, { attrs, labels, counts, rates, countWord, rateWord, pointAttrs }) {
    // Counts are whole: an axis of at least 4 keeps every label a whole number.
    const maxY = Math.max(4, niceMax(Math.max(...counts, 0)));
    const svg = frame(container, attrs || {}, maxY, amountLabel(maxY));
    const barW = barWidth(labels.length, 0.6);
    const line = [];
    labels.forEach((text, i) => {
      const x = xOf(i, labels.length);
      const y = yOf(counts[i], maxY);
      const extra = pointAttrs ? pointAttrs(i) : {};
      const bar = el("rect", { x: x - barW / 2, y, width: barW, height: H - PAD.b - y, class: "bar households", "data-value": counts[i], ...extra });
      bar.appendChild(el("title", {}, `${text} ${countWord}: ${counts[i]}`));
      svg.appendChild(bar);
      if (rates[i] !== null && rates[i] !== undefined) {
        const ry = yOf(rates[i], 1.1);
        line.push(`${x},${ry}`);
        const dot = el("circle", { cx: x, cy: ry, r: 3, class: "dot accuracy", "data-value": rates[i] });
        dot.appendChild(el("title", {}, `${text} ${rateWord}: ${pct(rates[i])}`));
        svg.appendChild(dot);
      }
    });
    if (line.length) svg.appendChild(el("polyline", { points: line.join(" "), class: "accuracy-line" }));
    xLabels(svg, labels);
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

  window.GreenLoopCharts = { rateChart, stackedBarChart, countsWithRateChart, rateBar, pct, niceMax, amountLabel };
})();

// GreenLoop public supervision page: the figures of /public/data/, drawn with charts.js.
(function () {
  "use strict";

  const { rateChart, rateBar, pct } = window.GreenLoopCharts;
  const state = JSON.parse(document.getElementById("initial-data").textContent);
  const t = state.t;
  const en = state.lang === "en";

  function html(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const places = new Map(state.places.map((p) => [`${p.scope}:${p.place_id}`, p]));
  function placeName(scope, id) {
    if (scope === "city") return t.city_row;
    const place = places.get(`${scope}:${id}`);
    return place ? (en && place.name_en ? place.name_en : place.name) : String(id);
  }
  function indicatorName(code) {
    const found = state.indicators.find((i) => i.code === code);
    return found ? found.name : code;
  }
  function kg(value) {
    return value === null || value === undefined ? t.withheld_cell : value.toFixed(1);
  }
  function onTrack(value) {
    return value === null ? t.unknown : value ? t.yes : t.no;
  }

  // The city against every indicator, then each district against the chosen one.
  const picker = document.getElementById("indicator");
  let chosen = state.indicators[0].code;

  function renderIndicators() {
    const body = document.querySelector("#indicators tbody");
    const rows = state.figures.filter((f) => f.scope === "city" || f.indicator === chosen);
    body.replaceChildren(...rows.map((f) => {
      const tr = html("tr", {
        "data-scope": f.scope, "data-place": f.place_id, "data-indicator": f.indicator,
        "data-value": f.value ?? "", "data-target": f.target ?? "",
        class: f.scope === "city" ? "city" : "",
      });
      const rate = html("td", { class: "rate" });
      rate.append(rateBar(f.value, f.target), html("span", { class: "num" }, pct(f.value)));
      tr.append(
        html("td", { class: "name" }, placeName(f.scope, f.place_id)),
        html("td", {}, indicatorName(f.indicator)), rate, html("td", {}, pct(f.target)),
        html("td", {}, pct(f.projected_rate)),
        html("td", { class: f.on_track ? "ok" : f.on_track === false ? "bad" : "" }, onTrack(f.on_track)),
      );
      return tr;
    }));
  }

  for (const i of state.indicators) picker.appendChild(html("option", { value: i.code }, i.name));
  picker.value = chosen;
  picker.addEventListener("change", () => { chosen = picker.value; renderIndicators(); });

  // One chart per plan indicator: the city's months against its target.
  function renderTrend() {
    const box = document.getElementById("trend");
    const months = state.months.filter((m) => m.scope === "city");
    const labels = months.map((m) => m.month);
    box.replaceChildren();
    for (const indicator of state.indicators) {
      const figure = state.figures.find((f) => f.scope === "city" && f.indicator === indicator.code);
      const fig = html("figure");
      fig.appendChild(html("figcaption", {}, `${t.city_row} · ${indicator.name}`));
      const holder = html("div", { class: "chart" });
      fig.appendChild(holder);
      box.appendChild(fig);
      rateChart(holder, {
        attrs: { "data-chart": "trend", "data-indicator": indicator.code },
        labels, values: months.map((m) => m[indicator.code]),
        target: figure ? figure.target : null, targetWord: t.target,
      });
    }
  }

  function renderKiosks() {
    const body = document.querySelector("#kiosks tbody");
    body.replaceChildren(...state.places.map((p) => {
      const tr = html("tr", { "data-scope": p.scope, "data-place": p.place_id });
      tr.append(
        html("td", {}, placeName(p.scope, p.place_id)),
        html("td", { class: "in-service" }, String(p.kiosks_in_service)),
        html("td", { class: p.kiosks_out_of_service ? "bad" : "" }, String(p.kiosks_out_of_service)),
        html("td", { class: "co2e", "data-value": p.co2e_avoided_kg ?? "" }, kg(p.co2e_avoided_kg)),
      );
      return tr;
    }));
  }

  function renderCommunities() {
    const body = document.querySelector("#communities tbody");
    body.replaceChildren(...state.communities.map((c) => {
      const tr = html("tr", { "data-community": c.community_id });
      tr.append(
        html("td", {}, String(c.rank)), html("td", {}, c.community), html("td", {}, String(c.households)),
        html("td", {}, pct(c.participation_rate)), html("td", {}, pct(c.accuracy_rate)),
        html("td", { class: "co2e" }, kg(c.co2e_avoided_kg)),
      );
      return tr;
    }));
  }

  renderIndicators();
  renderTrend();
  renderKiosks();
  renderCommunities();
  document.body.dataset.ready = "true";
})();

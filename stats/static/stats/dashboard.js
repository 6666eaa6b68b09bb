// GreenLoop dashboard: renders the statistics as SVG and keeps them live over /ws/stats/.
// No libraries: the charts (charts.js, shared with the public page) are a few rectangles and polylines.
(function () {
  "use strict";

  const state = JSON.parse(document.getElementById("initial-data").textContent);
  const t = state.t;
  const params = new URLSearchParams(window.location.search);
  const indicatorCodes = state.indicators.map((i) => i.code);
  state.indicator = indicatorCodes.includes(params.get("indicator")) ? params.get("indicator") : indicatorCodes[0];

  // The chosen indicator's figures of a row of the API (a district, a community or the series).
  function chosen(row) {
    return (row && row.indicators && row.indicators[state.indicator]) || null;
  }

  function html(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      // A style attribute is inline style, which the page's Content-Security-Policy refuses; the CSSOM is not.
      if (key === "style") node.style.cssText = value;
      else node.setAttribute(key, value);
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const { pct } = window.GreenLoopCharts;

  function districtName(district) {
    return state.lang === "en" && district.name_en ? district.name_en : district.name;
  }

  function label(point) {
    const start = point.start;
    if (state.granularity === "month") return start.slice(0, 7);
    return start.slice(5);
  }

  // ---- charts: drawn by charts.js, shared with the public page ----------------------------

  const charts = window.GreenLoopCharts;

  function chartAttrs(name) {
    return { "data-chart": name, "data-district": String(state.focus) };
  }

  function startOf(points) {
    return (i) => ({ "data-start": points[i].start });
  }

  function rateChart(container, series) {
    const points = series.points;
    charts.rateChart(container, {
      attrs: { ...chartAttrs("rate"), "data-indicator": state.indicator },
      labels: points.map(label),
      values: points.map((p) => p.indicators[state.indicator]),
      target: chosen(series) ? chosen(series).target : null,
      targetWord: t.target_word,
      pointAttrs: startOf(points),
    });
  }

  function categoryChart(container, series) {
    const points = series.points;
    const stacks = Object.keys(state.categories).map((key) => ({ key, ...state.categories[key] }));
    charts.stackedBarChart(container, {
      attrs: chartAttrs("categories"),
      labels: points.map(label),
      stacks,
      valueAt: (i, key) => points[i].collected_kg_by_category[key],
      unit: "kg",
      pointAttrs: startOf(points),
    });
    const legend = document.getElementById("legend");
    legend.replaceChildren(...stacks.map((stack) => {
      const item = html("span", { class: "legend-item" });
      const swatch = html("i", { style: `background:${stack.colour}` });
      item.append(swatch, document.createTextNode(stack.name));
      return item;
    }));
  }

  function participationChart(container, series) {
    const points = series.points;
    charts.countsWithRateChart(container, {
      attrs: chartAttrs("participation"),
      labels: points.map(label),
      counts: points.map((p) => p.participating_households),
      rates: points.map((p) => p.accuracy_rate),
      countWord: t.households,
      rateWord: t.accuracy,
      pointAttrs: startOf(points),
    });
  }

  // ---- tables ------------------------------------------------------------------------------

  // The bar of a share against its target: charts.js, shared with the public page.
  function rateBar(figure) {
    return window.GreenLoopCharts.rateBar(figure.value, figure.target);
  }

  // CO2e avoided in tonnes, to the kilogram.
  function tonnes(carbon) {
    return carbon ? (carbon.co2e_kg / 1000).toFixed(3) : "—";
  }

  function onTrackText(value) {
    return value === null ? t.unknown : value ? t.yes : t.no;
  }

  function onTrackClass(value) {
    return value ? "ok" : value === false ? "bad" : "";
  }

  function renderRanking() {
    const body = document.querySelector("#ranking tbody");
    body.replaceChildren();
    state.stats.results.forEach((row, i) => {
      const tr = html("tr", { "data-district": row.district.id });
      const collected = Object.values(row.collected_kg_by_category).reduce((a, b) => a + b, 0);
      const figure = chosen(row);
      const rateCell = html("td", { class: "rate" });
      rateCell.append(rateBar(figure), html("span", { class: "num" }, pct(figure.value)));
      tr.append(
        html("td", {}, String(i + 1)),
        html("td", { class: "name" }, districtName(row.district)),
        rateCell,
        html("td", {}, pct(figure.target)),
        html("td", {}, pct(figure.projected_rate)),
        html("td", { class: onTrackClass(figure.on_track) }, onTrackText(figure.on_track)),
        html("td", {}, pct(row.participation_rate)),
        html("td", {}, pct(row.accuracy_rate)),
        html("td", {}, (collected / 1000).toFixed(1)),
        html("td", { class: "co2e", "data-value": row.carbon ? row.carbon.co2e_kg : "" }, tonnes(row.carbon)),
      );
      tr.addEventListener("click", () => focus(row.district.id));
      body.appendChild(tr);
    });
  }

  function indicatorName(code) {
    const found = state.indicators.find((i) => i.code === code);
    return found ? found.name : code;
  }

  // Every indicator of the focused district against its target.
  function renderIndicators() {
    const body = document.querySelector("#indicators tbody");
    const row = state.stats.results.find((r) => r.district.id === state.focus);
    if (!row) {
      body.replaceChildren();
      return;
    }
    body.replaceChildren(...indicatorCodes.map((code) => {
      const figure = row.indicators[code];
      const tr = html("tr", {
        "data-indicator": code, "data-value": figure.value ?? "", "data-target": figure.target ?? "",
        class: code === state.indicator ? "chosen" : "",
      });
      const rateCell = html("td", { class: "rate" });
      rateCell.append(rateBar(figure), html("span", { class: "num" }, pct(figure.value)));
      tr.append(
        html("td", { class: "name" }, indicatorName(code)), rateCell, html("td", { class: "target" }, pct(figure.target)),
        html("td", {}, pct(figure.projected_rate)),
        html("td", { class: onTrackClass(figure.on_track) }, onTrackText(figure.on_track)),
      );
      tr.addEventListener("click", () => pickIndicator(code));
      return tr;
    }));
  }

  function pickIndicator(code) {
    state.indicator = code;
    document.getElementById("indicator").value = code;
    const url = new URL(window.location.href);
    url.searchParams.set("indicator", code);
    window.history.replaceState(null, "", url);
    renderRanking();
    renderIndicators();
    renderSeries();
  }

  function renderCommunities() {
    const body = document.querySelector("#communities tbody");
    body.replaceChildren(...state.communities.map((row) => {
      const tr = html("tr", { "data-community": row.community.id });
      if (row.suppressed) {
        tr.append(html("td", {}, row.community.name), html("td", { colspan: 4, class: "muted" }, t.suppressed));
      } else {
        tr.append(
          html("td", {}, row.community.name), html("td", {}, String(row.households)),
          html("td", {}, pct(row.participation_rate)), html("td", {}, pct(row.accuracy_rate)),
          html("td", { class: "co2e", "data-value": row.carbon ? row.carbon.co2e_kg : "" }, tonnes(row.carbon)),
        );
      }
      return tr;
    }));
  }

  function renderSeries() {
    const name = document.getElementById("focus-name");
    if (!state.series) {
      name.textContent = t.unknown;
      return;
    }
    name.textContent = districtName(state.series.district);
    rateChart(document.getElementById("chart-rate"), state.series);
    categoryChart(document.getElementById("chart-categories"), state.series);
    participationChart(document.getElementById("chart-participation"), state.series);
  }

  function seconds(value) {
    if (value === null || value === undefined) return "—";
    if (value < 120) return `${Math.round(value)} s`;
    if (value < 7200) return `${Math.round(value / 60)} min`;
    return `${(value / 3600).toFixed(1)} h`;
  }

  // Inspector quality of the district in focus (GET /api/v1/stats/inspectors).
  function renderInspectors() {
    const body = document.querySelector("#inspectors tbody");
    const rows = state.inspectors || [];
    if (!rows.length) {
      body.replaceChildren(html("tr"));
      body.firstChild.appendChild(html("td", { colspan: 6, class: "muted" }, t.no_inspectors));
      return;
    }
    body.replaceChildren(...rows.map((row) => {
      const tr = html("tr", { "data-inspector": row.inspector_id, "data-district": row.district_id });
      tr.append(
        html("td", {}, row.display_name), html("td", { class: "verdicts" }, String(row.verdicts)),
        html("td", { class: "correct-share", "data-value": row.correct_share ?? "" }, pct(row.correct_share)),
        html("td", {}, seconds(row.median_seconds_to_verdict)),
        html("td", { "data-value": row.auto_accepted_share ?? "" }, pct(row.auto_accepted_share)),
        html("td", { class: "agreement", "data-value": row.agreement_rate ?? "" }, pct(row.agreement_rate)),
      );
      return tr;
    }));
  }

  async function requestSample(event) {
    event.preventDefault();
    const result = document.getElementById("reinspect-result");
    const size = Number(event.target.elements.size.value);
    const response = await fetch("/api/v1/stats/reinspections", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ district_id: state.focus, size, from: state.stats.from, to: state.stats.to }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.status === 201) {
      result.textContent = t.requested.replace("%(n)s", String(body.drawn));
      result.dataset.sample = String(body.id);
    } else {
      result.textContent = response.status === 409 ? t.nothing_to_sample : ((body.error && body.error.message) || String(response.status));
    }
  }

  function alertText(alert) {
    const kind = t["alert_" + alert.kind] || alert.kind;
    return [kind, alert.material, alert.detail].filter(Boolean).join(" · ");
  }

  function renderKiosks(kiosks) {
    const body = document.querySelector("#kiosks tbody");
    if (!kiosks || !kiosks.length) {
      body.replaceChildren(html("tr", {}, ""));
      body.firstChild.appendChild(html("td", { colspan: 5, class: "muted" }, t.no_kiosks));
      return;
    }
    body.replaceChildren(...kiosks.map((k) => {
      const tr = html("tr", { "data-kiosk": k.id, "data-district": k.district_id });
      const fill = Object.entries(k.fill_levels || {}).map(([m, v]) => `${m} ${v}%`).join(" · ");
      const alerts = (k.alerts || []).map(alertText).join(", ");
      const status = k.enabled === false ? t.disabled : (k.reported_status || "—");
      const seen = k.last_heartbeat_at ? new Date(k.last_heartbeat_at).toLocaleString(state.lang === "en" ? "en" : "zh-CN") : "—";
      tr.append(
        html("td", {}, k.name || String(k.id)), html("td", {}, status), html("td", {}, seen),
        html("td", {}, fill), html("td", { class: alerts ? "bad" : "" }, alerts),
      );
      return tr;
    }));
  }

  const alertsSeen = new Set();
  function addAlert(data) {
    // City staff hear an alert on the district's group and on the city's: show it once.
    const key = [data.kiosk_id, data.kind, data.material].join("/");
    if (alertsSeen.has(key)) return;
    alertsSeen.add(key);
    setTimeout(() => alertsSeen.delete(key), 5000);
    const list = document.getElementById("alerts");
    const item = html("li", { class: "alert", "data-kiosk": data.kiosk_id }, `${data.kiosk || data.kiosk_id}: ${alertText(data)}`);
    list.prepend(item);
    while (list.children.length > 10) list.removeChild(list.lastChild);
  }

  // ---- data --------------------------------------------------------------------------------

  function query(extra) {
    const q = new URLSearchParams({ from: state.stats.from, to: state.stats.to, ...extra });
    return q.toString();
  }

  async function getJSON(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response.json();
  }

  async function refresh() {
    state.stats = await getJSON(`/api/v1/stats/districts?${query({})}`);
    renderRanking();
    renderIndicators();
    if (state.focus) {
      state.series = await getJSON(`/api/v1/stats/districts/${state.focus}/series?${query({ granularity: state.granularity })}`);
      state.communities = (await getJSON(`/api/v1/stats/districts/${state.focus}/communities?${query({})}`)).results;
      state.inspectors = (await getJSON(`/api/v1/stats/inspectors?${query({ district: state.focus })}`)).results;
      renderSeries();
      renderCommunities();
      renderInspectors();
    }
    const stamp = document.getElementById("live");
    stamp.dataset.updated = new Date().toISOString();
  }

  async function focus(id) {
    state.focus = id;
    document.getElementById("focus").value = String(id);
    await refresh();
  }

  async function loadKiosks() {
    try {
      const body = await getJSON("/api/v1/kiosks");
      renderKiosks(body.results || body);
    } catch (error) {
      renderKiosks([]);
    }
  }

  // ---- live --------------------------------------------------------------------------------

  function csrfToken() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  let pending = null;
  function refreshSoon() {
    // Several districts may report at once: one re-fetch per burst is enough.
    if (pending) return;
    pending = setTimeout(() => { pending = null; refresh().catch(() => {}); }, 300);
  }

  let retry = 1000;
  async function connect() {
    const live = document.getElementById("live");
    try {
      const response = await fetch("/api/v1/ws-ticket", {
        method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() },
      });
      if (!response.ok) throw new Error("ticket " + response.status);
      const { ticket } = await response.json();
      const scheme = window.location.protocol === "https:" ? "wss" : "ws";
      const socket = new WebSocket(`${scheme}://${window.location.host}/ws/stats/?ticket=${encodeURIComponent(ticket)}`);
      socket.onopen = () => { retry = 1000; live.dataset.state = "open"; live.textContent = t.live; };
      socket.onmessage = (message) => {
        const event = JSON.parse(message.data);
        if (event.event === "stats.updated") refreshSoon();
        if (event.event === "kiosk.alert") { addAlert(event.data || {}); loadKiosks(); }
      };
      socket.onclose = () => { live.dataset.state = "closed"; live.textContent = t.offline; reconnect(); };
    } catch (error) {
      live.dataset.state = "closed";
      live.textContent = t.offline;
      reconnect();
    }
  }

  function reconnect() {
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 30000);
  }

  // ---- start -------------------------------------------------------------------------------

  const select = document.getElementById("focus");
  for (const d of state.districts) select.appendChild(html("option", { value: d.id }, d.name));
  if (state.focus) select.value = String(state.focus);
  select.addEventListener("change", () => focus(Number(select.value)));
  document.getElementById("granularity").value = state.granularity;
  const picker = document.getElementById("indicator");
  for (const i of state.indicators) picker.appendChild(html("option", { value: i.code }, i.name));
  picker.value = state.indicator;
  picker.addEventListener("change", () => pickIndicator(picker.value));
  renderRanking();
  renderIndicators();
  renderSeries();
  renderCommunities();
  renderInspectors();
  document.getElementById("reinspect").addEventListener("submit", (event) => { requestSample(event).catch(() => {}); });
  document.body.dataset.ready = "true";
  loadKiosks();
  if (!params.has("static")) connect();
})();

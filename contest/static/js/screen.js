// The big screen (projector, 1920×1080): top 10, unit ranking, counters and two plain SVG charts.
(function () {
  "use strict";
  const { el, score, duration, number } = window.JD;
  const root = document.getElementById("screen");
  const cid = root.dataset.cid;
  const $ = (id) => document.getElementById(id);
  const initial = JSON.parse($("initial").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const history = []; // [time ms, participants] since the page opened
  const HISTORY_MS = 60 * 60 * 1000;

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderPeople(entries) {
    const before = new Map([...$("people").children].map((li) => [li.dataset.rank, li.dataset.key]));
    $("people").replaceChildren(...entries.map((e) => {
      const key = [e.name, e.unit, e.score, e.duration_ms].join("|");
      const li = el("li", { class: "top" + Math.min(e.rank, 4), "data-rank": e.rank, "data-key": key },
        el("span", { class: "no", text: String(e.rank) }),
        el("span", { class: "who" }, el("b", { text: e.name }), el("small", { text: e.unit })),
        el("span", { class: "pts" }, el("b", { text: score(e.score) }), el("small", { text: duration(e.duration_ms) })));
      if (before.size && before.get(String(e.rank)) !== key) li.classList.add("changed");
      return li;
    }));
    $("people-empty").hidden = entries.length > 0;
  }

  function renderUnits(units) {
    $("units").replaceChildren(...units.slice(0, 10).map((u, i) => {
      const rate = Math.round(u.participation_rate * 1000) / 10;
      return el("li", {},
        el("span", { class: "no", text: String(i + 1) }),
        el("div", { class: "unit" },
          el("div", { class: "line" }, el("b", { text: u.name }),
            el("small", { text: u.participants + "/" + u.headcount + " 人 · 均分 " + score(u.avg_best_score) }),
            el("span", { text: rate + "%" })),
          el("div", { class: "bar" }, el("i", { style: "width:" + Math.min(100, rate) + "%" }))));
    }));
    drawUnitBars(units);
  }

  function drawUnitBars(units) {
    const chart = $("unit-bars");
    const rows = [...units].sort((a, b) => b.participants - a.participants).slice(0, 8);
    const top = Math.max(1, ...rows.map((u) => u.participants));
    const rowH = 300 / 8;
    chart.replaceChildren(...rows.flatMap((u, i) => {
      const y = i * rowH;
      const w = Math.max(2, (u.participants / top) * 330);
      const name = u.name.length > 9 ? u.name.slice(0, 8) + "…" : u.name;
      return [
        svg("text", { x: 0, y: y + rowH * 0.65, class: "bar-label" }, name),
        svg("rect", { x: 210, y: y + rowH * 0.18, width: w, height: rowH * 0.64, rx: 4, class: "bar-rect" }),
        svg("text", { x: 218 + w, y: y + rowH * 0.65, class: "bar-value" }, String(u.participants)),
      ];
    }));
  }

  function drawTrend() {
    const chart = $("trend");
    const now = Date.now();
    while (history.length > 2 && history[0][0] < now - HISTORY_MS) history.shift();
    const start = history.length ? history[0][0] : now;
    const span = Math.max(60000, now - start);
    const low = 0;
    const high = Math.max(1, ...history.map((h) => h[1])) * 1.15;
    const x = (t) => ((t - start) / span) * 580 + 10;
    const y = (v) => 240 - ((v - low) / (high - low)) * 210;
    const points = history.map(([t, v]) => x(t).toFixed(1) + "," + y(v).toFixed(1));
    points.push(x(now).toFixed(1) + "," + y(history.length ? history[history.length - 1][1] : 0).toFixed(1));
    chart.replaceChildren(
      svg("line", { x1: 10, y1: 240, x2: 590, y2: 240, class: "axis" }),
      svg("polygon", { points: "10,240 " + points.join(" ") + " " + x(now).toFixed(1) + ",240", class: "trend-area" }),
      svg("polyline", { points: points.join(" "), class: "trend-line" }),
      svg("text", { x: 12, y: 24, class: "trend-label" }, "最多 " + number(Math.round(high / 1.15)) + " 人"),
    );
    const minutes = Math.round(span / 60000);
    $("trend-note").textContent = "最近 " + minutes + " 分钟（自本页打开起记录）";
  }

  function renderCounters(stats) {
    root.querySelectorAll("[data-k]").forEach((node) => {
      if (stats[node.dataset.k] !== undefined) node.textContent = number(stats[node.dataset.k]);
    });
  }

  function onStats(stats) {
    renderCounters(stats);
    if (stats.units) renderUnits(stats.units);
    if (stats.participants !== undefined) {
      history.push([Date.now(), stats.participants]);
      drawTrend();
    }
  }

  function onLeaderboard(board) {
    renderPeople(board.entries);
    renderCounters({ participants: board.participants });
  }

  function onState(state, message) {
    const node = $("live-state");
    node.dataset.state = state;
    node.textContent = message || { live: "实时", connecting: "连接中", reconnecting: "重新连接中…" }[state] || state;
  }

  function tickClock() {
    $("clock").textContent = new Date().toLocaleTimeString("zh-CN", { hour12: false });
  }

  onLeaderboard(initial.leaderboard);
  onStats(initial.stats);
  tickClock();
  setInterval(tickClock, 1000);
  setInterval(drawTrend, 30000); // the line keeps moving right even when nothing happens
  window.Live(cid, { leaderboard: onLeaderboard, stats: onStats, state: onState }, { limit: 10 });
})();

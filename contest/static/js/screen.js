// The big screen (projector, 1920×1080): top 10, unit ranking, counters and two plain SVG charts.
(function () {
  "use strict";
  const { api, el, score, duration, number } = window.JD;
  const root = document.getElementById("screen");
  const cid = root.dataset.cid;
  const $ = (id) => document.getElementById(id);
  const initial = JSON.parse($("initial").textContent);
  const SVG = "http://www.w3.org/2000/svg";

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
    mergeUnits(units);
  }

  // The chart ranks every unit by participants; pushes carry only the leading 20 by rate, so
  // the whole list comes by HTTP now and then (one projector, a request every 30 s).
  const allUnits = new Map();
  function mergeUnits(units) {
    units.forEach((u) => allUnits.set(u.unit_id, u));
    drawUnitBars([...allUnits.values()]);
  }
  async function refreshAllUnits() {
    try {
      mergeUnits(await api("GET", "/contests/" + cid + "/units/stats"));
    } catch (e) { /* keep what we have */ }
  }

  function drawUnitBars(units) {
    const chart = $("unit-bars");
    const rows = [...units].sort((a, b) => b.participants - a.participants || b.participation_rate - a.participation_rate).slice(0, 8);
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

  // Answers per minute: the last hour from the server, then grown from the pushed counters.
  const activity = initial.activity;
  const offsetMs = Date.parse(activity.server_time) - Date.now();
  const buckets = activity.minutes.map((m) => ({ label: m.minute, answers: m.answers }));
  let minuteNo = Math.floor((Date.now() + offsetMs) / 60000);
  let lastAnswers = initial.stats.answers;

  function roll() {
    const now = Math.floor((Date.now() + offsetMs) / 60000);
    for (; minuteNo < now; minuteNo++) {
      buckets.shift();
      // Labels in China Standard Time, like the server's minutes.
      buckets.push({ label: new Date((minuteNo + 1) * 60000 + 8 * 3600000).toISOString().slice(11, 16), answers: 0 });
    }
  }

  function drawActivity() {
    roll();
    const chart = $("activity");
    const top = Math.max(1, ...buckets.map((b) => b.answers));
    const width = 600 / buckets.length;
    const nodes = [svg("line", { x1: 0, y1: 230, x2: 600, y2: 230, class: "axis" })];
    buckets.forEach((b, i) => {
      const h = (b.answers / top) * 190;
      if (b.answers) nodes.push(svg("rect", { x: i * width + 1, y: 230 - h, width: Math.max(1, width - 2), height: h, class: "activity-bar" }));
      const last = i === buckets.length - 1;
      if (i % 10 === 0 || (last && i % 10 >= 5)) {
        const anchor = i === 0 ? "start" : last ? "end" : "middle";
        nodes.push(svg("text", { x: last ? 600 : i * width, y: 252, class: "axis-label", "text-anchor": anchor }, b.label));
      }
    });
    nodes.push(svg("text", { x: 0, y: 22, class: "axis-label" }, "峰值 " + number(top) + " 个/分钟"));
    chart.replaceChildren(...nodes);
  }

  function renderCounters(stats) {
    root.querySelectorAll("[data-k]").forEach((node) => {
      if (stats[node.dataset.k] !== undefined) node.textContent = number(stats[node.dataset.k]);
    });
  }

  function onStats(stats) {
    renderCounters(stats);
    if (stats.units) renderUnits(stats.units);
    if (stats.answers !== undefined) {
      roll();
      if (lastAnswers !== undefined && stats.answers > lastAnswers) buckets[buckets.length - 1].answers += stats.answers - lastAnswers;
      lastAnswers = stats.answers;
      drawActivity();
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
    // The contest's clock (China Standard Time, from the server), whatever the projector's zone.
    $("clock").textContent = new Date(Date.now() + offsetMs + 8 * 3600000).toISOString().slice(11, 19);
  }

  onLeaderboard(initial.leaderboard);
  onStats(initial.stats);
  tickClock();
  setInterval(tickClock, 1000);
  setInterval(drawActivity, 5000); // the minutes roll on even when nothing happens
  refreshAllUnits();
  setInterval(refreshAllUnits, 30000);
  window.Live(cid, { leaderboard: onLeaderboard, stats: onStats, state: onState }, { limit: 10 });
})();

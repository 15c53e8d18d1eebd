// The public leaderboard: top individuals (masked) and unit standings, moving live.
(function () {
  "use strict";
  const { api, el, score, duration, number } = window.JD;
  const root = document.getElementById("board");
  const cid = root.dataset.cid;
  const size = Number(root.dataset.size) || 50;
  const PUSHED = 10; // the live channel carries the top 10; the rest comes by HTTP, now and then
  const $ = (id) => document.getElementById(id);
  const initial = JSON.parse($("initial").textContent);
  let shown = []; // entries on screen, to flash the rows that changed
  let tailTimer = null;
  let lastTail = 0;

  const STATE_TEXT = { connecting: "连接中", live: "实时更新", reconnecting: "重新连接中…", offline: "定时刷新", error: "连接出错" };

  function rowKey(e) {
    return [e.name, e.unit, e.score, e.duration_ms].join("|");
  }

  function renderPeople(entries) {
    const before = new Map(shown.map((e) => [e.rank, rowKey(e)]));
    shown = entries;
    $("people").replaceChildren(...entries.map((e) => {
      const li = el("li", { class: "rank-row" + (e.rank <= 3 ? " top" + e.rank : ""), "data-rank": e.rank },
        el("span", { class: "rank-no", text: String(e.rank) }),
        el("span", { class: "rank-who" }, el("b", { class: "rank-name", text: e.name }), el("small", { class: "rank-unit", text: e.unit })),
        el("span", { class: "rank-score" }, el("b", { text: score(e.score) }), el("small", { text: duration(e.duration_ms) })));
      if (before.size && before.get(e.rank) !== rowKey(e)) li.classList.add("changed");
      return li;
    }));
    $("people-empty").hidden = entries.length > 0;
  }

  function renderUnits(units) {
    $("units").replaceChildren(...units.map((u, i) => {
      const rate = Math.round(u.participation_rate * 1000) / 10;
      return el("li", { class: "unit-row" },
        el("span", { class: "rank-no", text: String(i + 1) }),
        el("div", { class: "unit-main" },
          el("div", { class: "unit-line" }, el("b", { class: "unit-name", text: u.name }), el("span", { class: "unit-rate", text: rate + "%" })),
          el("div", { class: "bar" }, el("i", { style: "width:" + Math.min(100, rate) + "%" })),
          el("small", { class: "muted", text: "参与 " + u.participants + " / " + u.headcount + " 人 · 答卷 " + u.attempts + " · 平均最好 " + score(u.avg_best_score) + " 分" })));
    }));
  }

  function renderCounters(stats) {
    root.querySelectorAll("[data-k]").forEach((node) => {
      if (stats[node.dataset.k] !== undefined) node.textContent = number(stats[node.dataset.k]);
    });
  }

  function stamp() {
    $("updated").textContent = " 更新于 " + new Date().toLocaleTimeString("zh-CN", { hour12: false });
  }

  // Rows past the pushed top 10 are refreshed by HTTP at most every 5 s, spread over viewers.
  function refreshTail() {
    if (tailTimer) return;
    const wait = Math.max(0, lastTail + 5000 - Date.now()) + Math.random() * 2000;
    tailTimer = setTimeout(async () => {
      tailTimer = null;
      lastTail = Date.now();
      try {
        const board = await api("GET", "/contests/" + cid + "/leaderboard?limit=" + size);
        renderPeople(board.entries);
      } catch (e) { /* the next push tries again */ }
    }, wait);
  }

  function samePeople(entries) {
    return entries.every((e, i) => shown[i] && rowKey(shown[i]) === rowKey(e)) &&
      (entries.length === shown.length || entries.length === PUSHED);
  }

  // A push means something changed: the top 10 is in it; ranks past it may have moved too.
  function onLeaderboard(board, source) {
    if (!samePeople(board.entries)) renderPeople(board.entries);
    if (source === "push" && size > PUSHED && board.participants > PUSHED) refreshTail();
    renderCounters({ participants: board.participants });
    stamp();
  }

  function onStats(stats) {
    renderCounters(stats);
    if (stats.units) renderUnits(stats.units);
    stamp();
  }

  function onState(state, message) {
    const node = $("live-state");
    node.dataset.state = state;
    node.textContent = message || STATE_TEXT[state] || state;
  }

  document.querySelectorAll('[role="tab"]').forEach((tab) => {
    tab.addEventListener("click", () => {
      document.querySelectorAll('[role="tab"]').forEach((t) => {
        const on = t === tab;
        t.setAttribute("aria-selected", on ? "true" : "false");
        $(t.getAttribute("aria-controls")).hidden = !on;
      });
    });
  });

  renderPeople(initial.leaderboard.entries);
  onStats(initial.stats);
  shown = initial.leaderboard.entries;
  window.Live(cid, { leaderboard: onLeaderboard, stats: onStats, state: onState }, { limit: size });
})();

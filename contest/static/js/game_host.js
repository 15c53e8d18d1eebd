// The host's big screen: lobby with QR, question with countdown, distribution and top 10, podium.
(function () {
  "use strict";
  const { LETTERS, call, el, show } = window.Game;
  const $ = (id) => document.getElementById(id);
  const pin = $("host").dataset.pin;
  const hostToken = decodeURIComponent(location.hash.slice(1));
  const views = { lobby: $("s-lobby"), question: $("s-question"), result: $("s-result"), over: $("s-over") };
  let state = "lobby";
  let question = null;
  let timer = null;
  const lobby = new Map();
  let listed = 0; // people on a roster-only game's list

  const socket = window.Game.connect(watch, () => { $("link").textContent = "连接中断，正在重连…"; });

  async function watch() {
    $("link").textContent = "已连接";
    if (!hostToken) return ($("host-error").textContent = "缺少主持人凭证：请用创建比赛时给出的主持链接打开。");
    try {
      render(await call(socket, "game_host", { pin, host_token: hostToken, action: "watch" }));
    } catch (e) {
      $("host-error").textContent = e.message;
    }
  }

  function render(snap) {
    window.Game.syncClock(snap.server_time);
    $("title").textContent = snap.title || "现场竞赛";
    lobby.clear();
    listed = snap.listed || 0;
    for (const p of snap.lobby || []) lobby.set(p.player_id, p);
    drawLobby();
    if (snap.state === "question") {
      openQuestion(snap.question);
      $("q-answered").textContent = "已答 " + snap.answer_count + " / " + snap.players;
      if (snap.buzz) drawOrder($("q-order"), snap.buzz);
    } else if (snap.state === "result" && snap.result) showResult(snap.result);
    else if (snap.state === "over" && snap.over) showOver(snap.over);
    else setState("lobby");
  }

  function setState(next) {
    state = next;
    show(views, next);
    const allowed = {
      lobby: ["start", "end"], question: ["next", "pause", "resume", "skip", "end", "judge-right", "judge-wrong"],
      result: ["next", "end"], over: [],
    }[next];
    for (const button of document.querySelectorAll("#controls button")) {
      let ok = allowed.includes(button.dataset.action);
      if (button.dataset.action.startsWith("judge")) ok = ok && question && question.buzzer;
      if (button.dataset.action === "pause") ok = ok && question && !question.paused;
      if (button.dataset.action === "resume") ok = ok && question && question.paused;
      button.disabled = !ok;
    }
    if (next === "question") $("controls").querySelector('[data-action="next"]').textContent = "公布答案";
    else $("controls").querySelector('[data-action="next"]').textContent = "下一题";
  }

  function drawLobby() {
    $("count").textContent = listed ? lobby.size + " / " + listed : lobby.size;  // roster-only: of the list
    const chips = [...lobby.values()].map((p) => {
      const chip = el("span", "chip", p.name + (p.unit ? " · " + p.unit : ""));
      const remove = el("button", "", "×");
      remove.title = "移出";
      remove.addEventListener("click", () => act("remove", { player_id: p.player_id }));
      chip.append(remove);
      return chip;
    });
    $("players").replaceChildren(...chips);
  }

  async function act(action, extra) {
    $("host-error").textContent = "";
    try {
      await call(socket, "game_host", Object.assign({ pin, host_token: hostToken, action }, extra || {}));
    } catch (e) {
      $("host-error").textContent = e.message;
    }
  }

  for (const button of document.querySelectorAll("#controls button")) {
    button.addEventListener("click", () => {
      const action = button.dataset.action;
      if (action === "end" && !confirm("确定结束本场比赛？")) return;
      if (action.startsWith("judge")) return act("judge", { right: action === "judge-right" });
      act(action);
    });
  }

  function tick() {
    if (!question) return;
    $("q-clock").textContent = question.paused ? "暂停" : Math.ceil(window.Game.leftMs(question.deadline) / 1000);
  }

  function choiceBoxes(body, key) {
    const options = body.type === "judge" ? [["正确", true], ["错误", false]]
      : body.options.map((text, i) => [text, LETTERS[i]]);
    return options.map(([text, value], i) => {
      const box = el("div", "choice c" + (body.type === "judge" ? (i === 0 ? 3 : 0) : i));
      if (body.type !== "judge") box.append(el("span", "letter", value));
      box.append(el("span", "", text));
      if (key !== undefined) {
        const right = Array.isArray(key) ? key.includes(value) : key === value;
        box.classList.add(right ? "key" : "dim");
      }
      return box;
    });
  }

  function openQuestion(body) {
    question = body;
    window.Game.syncClock(body.server_time);
    $("q-no").textContent = "第 " + (body.index + 1) + " / " + body.count + " 题" + (body.points > 1 ? " · 双倍积分" : "")
      + (body.buzzer ? " · 抢答" : "");
    $("q-stem").textContent = body.stem;
    $("q-choices").replaceChildren(...choiceBoxes(body));
    $("q-answered").textContent = body.buzzer ? "" : "已答 0";
    $("q-buzz").hidden = !body.buzzer;
    $("q-order").replaceChildren();
    clearInterval(timer);
    timer = setInterval(tick, 200);
    tick();
    setState("question");
  }

  function drawOrder(list, rows) {
    let now = true;
    list.replaceChildren(...rows.map((row) => {
      const item = el("li", "", row.place + ". " + row.name + (row.unit ? "（" + row.unit + "）" : ""));
      if (row.right === true) item.className = "right";
      else if (row.right === false) item.className = "wrong";
      else if (now) { item.className = "now"; item.append(" · 作答中"); now = false; }
      return item;
    }));
  }

  function topRows(rows) {
    return rows.map((r) => {
      const tr = el("tr");
      tr.append(el("td", "num", r.rank), el("td", "", r.name), el("td", "muted", r.unit), el("td", "num", r.score));
      return tr;
    });
  }

  function showResult(result) {
    question = null;
    clearInterval(timer);
    $("r-no").textContent = "第 " + (result.index + 1) + " / " + result.count + " 题" + (result.skipped ? "（已跳过）" : "");
    $("r-answered").textContent = "作答 " + result.answered + " / " + result.players;
    $("r-stem").textContent = result.stem;
    $("r-key").textContent = window.Game.answerText(result);
    $("r-expl").textContent = result.explanation || "";
    const entries = Object.entries(result.distribution);
    const most = Math.max(1, ...entries.map(([, n]) => n));
    const key = result.correct_answer;
    $("r-bars").replaceChildren(...entries.map(([option, n], i) => {
      const bar = el("div", "bar");
      const judge = option === "true" || option === "false";
      const fill = el("div", "fill c" + (judge ? (option === "true" ? 3 : 0) : i));
      fill.style.height = Math.round((n / most) * 75) + "%";  // of the chart, which grows with the screen
      const right = judge ? String(key) === option : Array.isArray(key) && key.includes(option);
      bar.append(el("span", "n", n), fill, el("span", "", (judge ? (option === "true" ? "正确" : "错误") : option) + (right ? " ✔" : "")));
      return bar;
    }));
    $("r-buzz").replaceChildren();
    if (result.buzz) drawOrder($("r-buzz"), result.buzz);
    $("r-top").replaceChildren(...topRows(result.top));
    setState("result");
    $("controls").querySelector('[data-action="next"]').textContent = result.last ? "查看领奖台" : "下一题";
  }

  function showOver(over) {
    question = null;
    clearInterval(timer);
    const steps = [2, 1, 3].map((place) => over.podium.find((p) => p.rank === place) ? place : null).filter(Boolean);
    $("o-podium").replaceChildren(...steps.map((place) => {
      const winners = over.podium.filter((p) => p.rank === place);
      const step = el("div", "step p" + place);
      step.append(el("div", "place", place));
      for (const w of winners) step.append(el("div", "", w.name), el("div", "muted", w.unit), el("div", "", w.score + " 分"));
      return step;
    }));
    $("o-top").replaceChildren(...topRows(over.top));
    $("o-units-title").textContent = "单位排名（" + (over.unit_ranking === "sum" ? "总分" : "平均分") + "）";
    $("o-units").replaceChildren(...over.units.map((u) => {
      const tr = el("tr");
      tr.append(el("td", "num", u.rank), el("td", "", u.name), el("td", "muted", u.players + " 人"), el("td", "num", u.score));
      return tr;
    }));
    setState("over");
  }

  socket.on("game_player_joined", (p) => { lobby.set(p.player_id, p); drawLobby(); });
  socket.on("game_player_removed", (p) => { lobby.delete(p.player_id); drawLobby(); });
  socket.on("game_question", openQuestion);
  socket.on("game_clock", (body) => {
    if (!question || body.index !== question.index) return;
    question.paused = body.paused;
    if (body.deadline) question.deadline = body.deadline;
    window.Game.syncClock(body.server_time);
    setState("question");
    tick();
  });
  socket.on("game_progress", (p) => { $("q-answered").textContent = "已答 " + p.answered + " / " + p.players; });
  socket.on("game_buzz", (body) => drawOrder($("q-order"), body.order));
  socket.on("game_result", showResult);
  socket.on("game_over", showOver);
})();

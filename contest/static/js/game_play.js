// The phone in a live game: join by PIN, answer with the options only, see own rank after each question.
(function () {
  "use strict";
  const { LETTERS, call, el, show } = window.Game;
  const $ = (id) => document.getElementById(id);
  const root = $("game");
  const views = { join: $("v-join"), wait: $("v-wait"), question: $("v-question"), buzz: $("v-buzz"),
                  result: $("v-result"), over: $("v-over"), removed: $("v-removed") };
  const STORE = "jd.game";
  let seat = JSON.parse(localStorage.getItem(STORE) || "null");
  if (seat && root.dataset.pin && seat.pin !== root.dataset.pin) seat = null;
  let question = null;     // the open question (game_question body)
  let sent = false;        // this phone's answer (or buzz) to it was taken
  let picked = [];
  let timer = null;
  let lastMine = null;     // own rank after the last question, for the podium view
  let resultIndex = null;  // the question whose result is on screen
  let earlyMine = null;    // own rank that came before its result (the two travel on different channels)

  function setLink(up) {
    $("link").replaceChildren(el("span", "status-dot" + (up ? "" : " down")), up ? "已连接" : "重新连接中…");
  }

  const socket = window.Game.connect(() => { setLink(true); if (seat) rejoin(); }, () => setLink(false));

  function forget(message) {
    localStorage.removeItem(STORE);
    seat = null;
    show(views, "join");
    if (message) $("join-error").textContent = message;
  }

  async function rejoin() {
    try {
      const snap = await call(socket, "game_rejoin", { pin: seat.pin, token: seat.token });
      window.Game.syncClock(snap.server_time);
      render(snap);
    } catch (e) {
      if (e.error === "bad_token" || e.error === "game_not_found") forget(e.message);
      else $("join-error").textContent = e.message;
    }
  }

  function render(snap) {
    $("me").textContent = snap.name ? snap.name + (snap.unit ? " · " + snap.unit : "") : "";
    if (snap.state === "lobby") return show(views, "wait");
    if (snap.state === "question") {
      openQuestion(snap.question, snap.answered);
      if (snap.buzz) showOrder({ order: snap.buzz });
      return;
    }
    if (snap.state === "result" && snap.result) {
      showResult(snap.result);
      showMine({ rank: snap.rank, score: snap.score, players: snap.players, answered: null });
      return;
    }
    if (snap.state === "over") return showOver(snap.over, { rank: snap.rank, score: snap.score });
  }

  $("join-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("join-error").textContent = "";
    const pin = $("pin").value.trim();
    const name = $("name").value.trim();
    if (!/^\d{6}$/.test(pin)) return ($("join-error").textContent = "PIN 码应为 6 位数字。");
    if (!name) return ($("join-error").textContent = "请填写姓名。");
    const button = event.target.querySelector("button");
    button.disabled = true;
    try {
      const body = { pin, name, unit_id: $("unit").value || null };
      if (!$("phone-row").hidden) body.phone = $("phone").value.trim();
      const ack = await call(socket, "game_join", body);
      seat = { pin, token: ack.token, player_id: ack.player_id };
      localStorage.setItem(STORE, JSON.stringify(seat));
      await rejoin();
    } catch (e) {
      $("join-error").textContent = e.message;
      if (e.error === "phone_required") {
        // A roster-only game: the list gives the unit, the phone finds the seat.
        $("phone-row").hidden = false;
        $("unit-row").hidden = true;
        $("phone").focus();
      }
    } finally {
      button.disabled = false;
    }
  });

  function tick() {
    const node = question && question.buzzer ? $("b-clock") : $("q-clock");
    if (!question) return;
    if (question.paused) {
      node.textContent = "暂停中";
      return;
    }
    node.textContent = Math.ceil(window.Game.leftMs(question.deadline) / 1000) + " 秒";
  }

  function openQuestion(body, answered) {
    question = body;
    resultIndex = null;
    sent = !!answered;
    picked = [];
    window.Game.syncClock(body.server_time);
    clearInterval(timer);
    timer = setInterval(tick, 200);
    tick();
    const label = "第 " + (body.index + 1) + " / " + body.count + " 题";
    if (body.buzzer) {
      $("b-no").textContent = label;
      $("b-press").disabled = sent;
      $("b-order").replaceChildren();
      $("b-status").textContent = "抢答顺序";
      $("b-error").textContent = "";
      return show(views, "buzz");
    }
    $("q-no").textContent = label;
    $("q-points").textContent = body.points > 1 ? "双倍积分" : "";
    $("q-error").textContent = "";
    const choices = $("q-choices");
    choices.replaceChildren();
    const options = body.type === "judge" ? [["正确", true], ["错误", false]]
      : body.options.map((text, i) => [text, LETTERS[i]]);
    options.forEach(([text, value], i) => {
      const button = el("button", "choice c" + (body.type === "judge" ? (i === 0 ? 3 : 0) : i));
      button.type = "button";
      if (body.type !== "judge") button.append(el("span", "letter", value));
      button.append(el("span", "", text));
      button.addEventListener("click", () => choose(button, value));
      choices.append(button);
    });
    $("q-submit").hidden = body.type !== "multiple" || sent;
    markSent();
    show(views, "question");
  }

  function markSent() {
    $("q-done").hidden = !sent;
    $("q-choices").hidden = sent;
    if (sent) $("q-submit").hidden = true;
  }

  function choose(button, value) {
    if (sent) return;
    if (question.type === "multiple") {
      button.classList.toggle("picked");
      picked = picked.includes(value) ? picked.filter((v) => v !== value) : picked.concat([value]);
      return;
    }
    send(question.type === "judge" ? value : [value]);
  }

  $("q-submit").addEventListener("click", () => {
    if (!picked.length) return ($("q-error").textContent = "请至少选择一项。");
    send(picked.slice().sort());
  });

  async function send(answer) {
    sent = true;
    markSent();
    try {
      await call(socket, "game_answer", { pin: seat.pin, token: seat.token, index: question.index, answer });
    } catch (e) {
      if (e.error === "timeout") {
        // Unknown whether it arrived: the snapshot says, and a repeat is refused harmlessly.
        await rejoin();
        return;
      }
      if (e.error !== "already_answered") sent = false;
      markSent();
      $("q-error").textContent = e.message;
    }
  }

  $("b-press").addEventListener("click", async () => {
    $("b-press").disabled = true;
    try {
      const ack = await call(socket, "game_buzz", { pin: seat.pin, token: seat.token, index: question.index });
      $("b-status").textContent = "您是第 " + ack.place + " 位";
    } catch (e) {
      $("b-error").textContent = e.message;
    }
  });

  function showOrder(body) {
    const list = $("b-order");
    list.replaceChildren();
    let now = true;
    for (const row of body.order) {
      const item = el("li", "", row.place + ". " + row.name + (row.unit ? "（" + row.unit + "）" : ""));
      if (row.right === true) item.className = "right";
      else if (row.right === false) item.className = "wrong";
      else if (now) { item.className = "now"; item.append(" · 请作答"); now = false; }
      if (seat && row.player_id === seat.player_id) item.append(" ← 我");
      list.append(item);
    }
  }

  function showResult(result) {
    question = null;
    clearInterval(timer);
    resultIndex = result.index;
    $("r-verdict").textContent = "";
    $("r-key").textContent = "正确答案：" + window.Game.answerText(result);
    $("r-points").textContent = "";
    $("r-rank").textContent = "正在计算排名…";
    $("r-score").textContent = "";
    show(views, "result");
    const early = earlyMine;
    earlyMine = null;
    if (early && early.index === result.index) showMine(early);
  }

  function onMine(mine) {
    lastMine = mine;
    if (mine.index === resultIndex) showMine(mine);
    else if (resultIndex === null || mine.index > resultIndex) earlyMine = mine;  // shown when its result comes
  }

  function showMine(mine) {
    lastMine = mine;
    if (mine.answered === false) {
      $("r-verdict").textContent = "未作答";
      $("r-verdict").className = "verdict wrong";
    } else if (mine.answered) {
      $("r-verdict").textContent = mine.correct ? "回答正确" : "回答错误";
      $("r-verdict").className = "verdict " + (mine.correct ? "right" : "wrong");
      $("r-points").textContent = mine.points ? "+" + mine.points + " 分" : "";
    }
    $("r-rank").textContent = "当前第 " + mine.rank + " 名" + (mine.players ? " / 共 " + mine.players + " 人" : "");
    $("r-score").textContent = "总分 " + mine.score;
  }

  function showOver(over, mine) {
    question = null;
    clearInterval(timer);
    mine = mine || lastMine;
    $("o-mine").textContent = mine && mine.rank ? "您的名次：第 " + mine.rank + " 名，总分 " + mine.score : "";
    const list = $("o-podium");
    list.replaceChildren(...over.podium.map((p) => el("li", "", "第" + p.rank + "名 " + p.name +
      (p.unit ? "（" + p.unit + "）" : "") + " " + p.score + "\u00a0分")));
    show(views, "over");
  }

  socket.on("game_question", (body) => { if (seat) openQuestion(body, false); });
  socket.on("game_clock", (body) => {
    if (!question || body.index !== question.index) return;
    question.paused = body.paused;
    if (body.deadline) question.deadline = body.deadline;
    window.Game.syncClock(body.server_time);
    tick();
  });
  socket.on("game_buzz", showOrder);
  socket.on("game_result", (body) => { if (seat) showResult(body); });
  socket.on("game_you", onMine);
  socket.on("game_over", (body) => showOver(body, null));
  socket.on("game_removed", () => { localStorage.removeItem(STORE); seat = null; show(views, "removed"); });

  if (!seat) show(views, "join");
})();

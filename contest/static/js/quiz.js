// The quiz: one question per screen, a countdown on the server's clock, answers saved one by one.
//
// Every answer goes into a queue kept in localStorage until the server acknowledges it, so a
// flaky network, a reload or a switch from Wi-Fi to mobile data loses nothing: the queue is
// sent again (with backoff) and the attempt resumes from GET /attempts/<id>. Fresh from the
// contest page, the paper its start returned is used instead.
(function () {
  "use strict";
  const { api, store, el, showNotice, clock, TYPE_NAMES, LETTERS } = window.JD;
  const root = document.getElementById("quiz");
  const cid = root.dataset.cid;
  const home = root.dataset.home;
  const entry = store.entry(cid);
  const aid = store.attempt(cid);
  if (!entry || !entry.token || !aid) {
    window.location.replace(home);
    return;
  }
  const token = entry.token;
  const resultUrl = "/c/" + cid + "/result/" + aid;
  const $ = (id) => document.getElementById(id);
  const notice = $("notice");

  let questions = [];
  let index = 0;
  const answers = {}; // qid → the answer shown on this phone
  const saved = {}; // qid → JSON of the answer the server acknowledged
  const queue = new Map(); // qid → answer not yet acknowledged (mirrored in localStorage)
  const refused = {}; // qid → why the server refused it (malformed: not worth resending)
  let offsetMs = 0; // server clock minus this phone's clock
  let deadlineMs = 0;
  let flushing = null;
  let retryTimer = null;
  let debounceTimer = null;
  let retryDelay = 0;
  let closed = false; // the server said the time is up: nothing more will be accepted
  let finishing = false;
  let hiddenAt = 0;

  const serverNow = () => Date.now() + offsetMs;
  const key = (qid) => String(qid);

  function isAnswered(answer) {
    if (answer === undefined || answer === null) return false;
    if (Array.isArray(answer)) return answer.length > 0;
    if (typeof answer === "string") return answer.trim() !== "";
    return true;
  }

  // sessionStorage keeps the question on screen across a reload; without it we start at 1.
  function session(op, name, value) {
    try {
      if (op === "get") return sessionStorage.getItem(name);
      if (op === "set") sessionStorage.setItem(name, value);
      else sessionStorage.removeItem(name);
    } catch (e) { /* storage refused: nothing to remember */ }
    return null;
  }

  function persist() {
    store.setPending(aid, Object.fromEntries(queue));
  }

  function fatal(message, canRetry) {
    $("loading").hidden = true;
    showNotice(notice, message);
    notice.append(" ", el("a", { href: home, text: "返回竞赛首页" }));
    if (canRetry) {
      const again = el("button", { type: "button", class: "link", text: "重试" });
      again.addEventListener("click", () => window.location.reload());
      notice.append(" ", again);
    }
  }

  // ---- loading and resuming -------------------------------------------------------------

  // The paper the contest page just started, if it left it here (once, and only for a minute: a
  // reload, or a page opened later, asks the server, which knows the answers saved since).
  function handedOver() {
    const kept = sessionStorage.getItem("jd.paper." + aid);
    if (!kept) return null;
    sessionStorage.removeItem("jd.paper." + aid);
    try {
      const paper = JSON.parse(kept);
      return Date.now() - paper.received < 60000 ? paper : null;
    } catch (e) {
      return null;
    }
  }

  async function fetchAttempt() {
    const paper = handedOver();
    const sent = paper ? paper.sent : Date.now();
    const attempt = paper ? paper.attempt : await api("GET", "/attempts/" + aid, { token: token });
    const received = paper ? paper.received : Date.now();
    if (attempt.status === "open") {
      // The midpoint of the round trip is our best guess of when the server read its clock.
      offsetMs = Date.parse(attempt.server_time) - (sent + received) / 2;
      deadlineMs = Date.parse(attempt.deadline);
    }
    return attempt;
  }

  async function load() {
    let attempt;
    try {
      attempt = await fetchAttempt();
    } catch (e) {
      if (e.status === 401) store.forget(cid);
      else if (e.status === 403 || e.status === 404) store.setAttempt(cid, null);
      fatal(e.message, e.transient);
      return;
    }
    if (attempt.status !== "open") {
      window.location.replace(resultUrl);
      return;
    }
    root.dataset.deadline = attempt.deadline;
    questions = attempt.questions;
    for (const [qid, answer] of Object.entries(attempt.answers || {})) {
      answers[qid] = answer;
      saved[qid] = JSON.stringify(answer);
    }
    // Answers this phone kept but the server had not acknowledged (reload while offline).
    const known = new Set(questions.map((q) => key(q.id)));
    for (const [qid, answer] of Object.entries(store.pending(aid))) {
      if (!known.has(qid)) continue;
      answers[qid] = answer;
      if (JSON.stringify(answer) !== saved[qid]) queue.set(qid, answer);
    }
    persist();
    const remembered = Number(session("get", "jd.index." + aid));
    index = Number.isInteger(remembered) && remembered < questions.length ? remembered : 0;
    $("loading").hidden = true;
    $("question").hidden = false;
    $("quiz-nav").hidden = false;
    $("sheet").hidden = false;
    $("q-total").textContent = questions.length;
    render();
    tick();
    setInterval(tick, 250);
    flush();
  }

  // ---- rendering ---------------------------------------------------------------------------

  function choiceButton(role, checked, label, text, onPick) {
    const button = el("button", { type: "button", class: "choice" + (checked ? " checked" : ""), role: role,
      "aria-checked": checked ? "true" : "false" },
    label ? el("span", { class: "letter", text: label }) : null, el("span", { class: "choice-text", text: text }));
    button.addEventListener("click", onPick);
    return button;
  }

  function renderChoices(q) {
    const qid = key(q.id);
    const current = answers[qid];
    const box = $("q-choices");
    if (q.type === "single" || q.type === "multiple") {
      const chosen = new Set(Array.isArray(current) ? current : []);
      box.setAttribute("role", q.type === "single" ? "radiogroup" : "group");
      box.replaceChildren(...q.options.map((text, i) => {
        const letter = LETTERS[i];
        return choiceButton(q.type === "single" ? "radio" : "checkbox", chosen.has(letter), letter, text, () => {
          if (q.type === "single") {
            setAnswer(qid, [letter], 0);
          } else {
            chosen.has(letter) ? chosen.delete(letter) : chosen.add(letter);
            setAnswer(qid, [...chosen].sort(), 400);
          }
        });
      }));
    } else if (q.type === "judge") {
      box.setAttribute("role", "radiogroup");
      box.replaceChildren(
        choiceButton("radio", current === true, "✓", "正确", () => setAnswer(qid, true, 0)),
        choiceButton("radio", current === false, "✗", "错误", () => setAnswer(qid, false, 0)),
      );
    } else {
      box.removeAttribute("role");
      const input = el("input", { type: "text", class: "fill-input", maxlength: "200", autocomplete: "off",
        "aria-label": "填写答案", placeholder: "在此填写答案" });
      input.value = typeof current === "string" ? current : "";
      input.addEventListener("input", (e) => { if (!e.isComposing) setAnswer(qid, input.value, 800, true); });
      input.addEventListener("compositionend", () => setAnswer(qid, input.value, 800, true));
      input.addEventListener("change", () => setAnswer(qid, input.value, 0, true));
      box.replaceChildren(input, el("p", { class: "hint", text: "填写后自动保存；答案不区分全角半角和空格。" }));
    }
  }

  function render() {
    const q = questions[index];
    session("set", "jd.index." + aid, String(index));
    $("q-index").textContent = index + 1;
    $("q-type").textContent = TYPE_NAMES[q.type] + (q.type === "multiple" ? "（可多选）" : "");
    $("q-stem").textContent = q.stem;
    $("question").dataset.qid = q.id;
    $("question").dataset.type = q.type;
    renderChoices(q);
    $("prev").disabled = index === 0;
    $("next").textContent = index === questions.length - 1 ? "交卷" : "下一题";
    renderStates();
  }

  function saveStateOf(qid) {
    if (refused[qid]) return ["error", "未保存：" + refused[qid]];
    const answer = answers[qid];
    if (queue.has(qid)) {
      return retryDelay ? ["retry", "网络不稳，答案已暂存本机，正在重试…"] : ["saving", "保存中…"];
    }
    if (saved[qid] !== undefined) {
      if (!isAnswered(answer)) return ["warn", "请至少选一项（仍保留上次保存的选择）"];
      return ["saved", "✓ 已保存"];
    }
    return ["none", ""];
  }

  function renderStates() {
    if (!questions.length) return;
    const q = questions[index];
    const [state, text] = saveStateOf(key(q.id));
    const badge = $("save-state");
    badge.dataset.state = state;
    badge.textContent = text;
    const answered = questions.filter((x) => isAnswered(answers[key(x.id)])).length;
    $("progress-fill").style.width = (100 * answered) / questions.length + "%";
    $("sheet-summary").textContent = "已答 " + answered + " / " + questions.length;
    const grid = $("sheet-grid");
    if (grid.children.length !== questions.length) {
      grid.replaceChildren(...questions.map((x, i) => {
        const b = el("button", { type: "button", class: "cell", text: String(i + 1), "aria-label": "第 " + (i + 1) + " 题" });
        b.addEventListener("click", () => { index = i; render(); window.scrollTo(0, 0); });
        return b;
      }));
    }
    questions.forEach((x, i) => {
      const cell = grid.children[i];
      const [s] = saveStateOf(key(x.id));
      cell.className = "cell" + (isAnswered(answers[key(x.id)]) ? " answered" : "") + (i === index ? " current" : "") +
        (s === "saving" || s === "retry" ? " pending" : "") + (s === "error" ? " error" : "");
    });
    const waiting = queue.size;
    $("net-state").textContent = waiting && retryDelay
      ? "网络不稳定：" + waiting + " 个答案暂存在本机，恢复后自动保存。"
      : waiting ? "正在保存 " + waiting + " 个答案…" : "";
  }

  // ---- saving answers ----------------------------------------------------------------------

  function setAnswer(qid, answer, delay, keepInput) {
    if (closed || finishing) return;
    answers[qid] = answer;
    delete refused[qid];
    if (!isAnswered(answer) && typeof answer !== "string") {
      queue.delete(qid); // an empty multiple choice cannot be sent; the last saved one stands
    } else if (JSON.stringify(answer) === saved[qid]) {
      queue.delete(qid);
    } else {
      queue.set(qid, answer);
    }
    persist();
    if (keepInput) renderStates();
    else render();
    clearTimeout(debounceTimer);
    if (delay) debounceTimer = setTimeout(flush, delay);
    else flush();
  }

  function flush() {
    if (!flushing) flushing = sendQueue().finally(() => { flushing = null; });
    return flushing;
  }

  async function sendQueue() {
    clearTimeout(retryTimer);
    retryTimer = null;
    while (queue.size && !closed) {
      const [qid, answer] = queue.entries().next().value;
      const sent = JSON.stringify(answer);
      try {
        await api("PUT", "/attempts/" + aid + "/answers/" + qid, { body: { answer: answer }, token: token, timeout: 10000 });
        saved[qid] = sent;
        if (queue.has(qid) && JSON.stringify(queue.get(qid)) === sent) queue.delete(qid);
        retryDelay = 0;
      } catch (e) {
        if (e.status === 409) {
          // Time is up (or the attempt was submitted elsewhere): the server keeps what it had.
          closed = true;
          queue.clear();
          persist();
          renderStates();
          submit(e.code !== "already_submitted"); // submitted on another phone: not a timeout
          return;
        }
        if (e.transient) {
          retryDelay = Math.min(retryDelay ? retryDelay * 2 : 1000, 10000);
          retryTimer = setTimeout(flush, retryDelay);
          renderStates();
          return;
        }
        if (e.status === 401 || e.status === 403) {
          fatal(e.message, false);
          return;
        }
        refused[qid] = e.message; // malformed for its type: resending would not help
        if (queue.has(qid) && JSON.stringify(queue.get(qid)) === sent) queue.delete(qid);
      } finally {
        persist();
        renderStates();
      }
    }
  }

  window.addEventListener("online", () => { retryDelay = 0; flush(); });

  // ---- the clock and finishing --------------------------------------------------------------

  function tick() {
    if (!deadlineMs) return;
    const left = (deadlineMs - serverNow()) / 1000;
    const node = $("countdown");
    node.textContent = clock(Math.ceil(left));
    node.classList.toggle("warn", left <= 60);
    if (left <= 0 && !finishing) submit(true);
  }

  document.addEventListener("visibilitychange", async () => {
    if (document.hidden) {
      hiddenAt = Date.now();
      return;
    }
    // Back from the background (phone locked, another app): the clock may have drifted.
    if (hiddenAt && Date.now() - hiddenAt > 10000 && !finishing) {
      try {
        const attempt = await fetchAttempt();
        if (attempt.status !== "open") window.location.replace(resultUrl);
      } catch (e) { /* keep the old offset; the next try comes with the next return */ }
    }
    flush();
  });

  const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function submit(auto) {
    if (finishing) return;
    finishing = true;
    $("confirm").hidden = true;
    $("finishing").hidden = false;
    $("finishing-title").textContent = auto ? "时间到，正在交卷…" : "正在交卷…";
    // Send what is still queued first; past the deadline the server would refuse it anyway.
    while (queue.size && !closed && serverNow() < deadlineMs + 2000) {
      await flush();
      if (queue.size && !closed) await wait(1000);
    }
    for (let attemptNo = 0; ; attemptNo++) {
      try {
        const result = await api("POST", "/attempts/" + aid + "/submit", { token: token, timeout: 20000 });
        store.setPending(aid, {});
        session("remove", "jd.index." + aid);
        try {
          sessionStorage.setItem("jd.result." + aid, JSON.stringify(result));
          if (auto) sessionStorage.setItem("jd.auto." + aid, "1");
        } catch (e) { /* the result page fetches it */ }
        window.location.replace(resultUrl);
        return;
      } catch (e) {
        if (!e.transient) {
          $("finishing").hidden = true;
          fatal(e.message, true);
          return;
        }
        $("finishing-text").textContent = e.message + " 正在重试（第 " + (attemptNo + 1) + " 次），请不要关闭页面。";
        await wait(Math.min(2000 * (attemptNo + 1), 10000));
      }
    }
  }

  function askSubmit() {
    const unanswered = questions.filter((q) => !isAnswered(answers[key(q.id)])).length;
    let text = unanswered ? "还有 " + unanswered + " 道题未作答。" : "已全部作答。";
    if (queue.size) text += "另有 " + queue.size + " 个答案正在保存，确认后会先保存再交卷。";
    text += "交卷后不能再修改答案。";
    $("confirm-text").textContent = text;
    $("confirm").dataset.unanswered = unanswered;
    $("confirm").hidden = false;
    $("confirm-ok").focus();
  }

  $("prev").addEventListener("click", () => { if (index > 0) { index--; render(); } });
  $("next").addEventListener("click", () => {
    if (index < questions.length - 1) { index++; render(); window.scrollTo(0, 0); }
    else askSubmit();
  });
  $("submit").addEventListener("click", askSubmit);
  $("confirm-cancel").addEventListener("click", () => { $("confirm").hidden = true; });
  $("confirm-ok").addEventListener("click", () => submit(false));

  load();
})();

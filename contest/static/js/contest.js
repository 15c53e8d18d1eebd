// The contest home: enter (name, phone, unit), then start or resume an attempt.
(function () {
  "use strict";
  const { api, store, showNotice, clock } = window.JD;
  const root = document.getElementById("play");
  const cid = root.dataset.cid;
  const notice = document.getElementById("notice");
  const entryForm = document.getElementById("entry");
  const ready = document.getElementById("ready");
  const startButton = document.getElementById("start");
  const lastResult = document.getElementById("last-result");
  const playUrl = "/c/" + cid + "/play";
  let picker = null;

  function fieldError(field, message) {
    const node = entryForm.querySelector('.field-error[data-for="' + field + '"]');
    if (node) node.textContent = message || "";
    const input = field === "unit_id" ? document.getElementById("unit-search") : entryForm.elements[field];
    if (input) input.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function clearErrors() {
    ["name", "phone", "unit_id"].forEach((f) => fieldError(f, ""));
    showNotice(notice, "");
  }

  function showEntry() {
    ready.hidden = true;
    entryForm.hidden = false;
    if (!picker) picker = window.UnitPicker(document.getElementById("unit-picker"));
  }

  async function showReady(entry) {
    entryForm.hidden = true;
    ready.hidden = false;
    document.getElementById("ready-name").textContent = entry.name;
    document.getElementById("ready-unit").textContent = entry.unit ? "（" + entry.unit + "）" : "";
    const note = document.getElementById("ready-note");
    startButton.textContent = "开始答题";
    note.textContent = "";
    const aid = store.attempt(cid);
    if (!aid) return;
    try {
      const attempt = await api("GET", "/attempts/" + aid, { token: entry.token });
      if (attempt.status === "open") {
        const left = (Date.parse(attempt.deadline) - Date.parse(attempt.server_time)) / 1000;
        startButton.textContent = "继续答题";
        note.textContent = "您有一份未完成的答卷，剩余时间约 " + clock(left) + "，已保存的答案都在。";
      } else {
        startButton.textContent = "再答一次";
        lastResult.href = "/c/" + cid + "/result/" + aid;
        lastResult.hidden = false;
        const r = attempt.result;
        note.textContent = "上次得分 " + window.JD.score(r.score) + " 分，个人最好 " + window.JD.score(r.best_score) + " 分。";
      }
    } catch (e) {
      if (e.status === 401) {
        store.forget(cid);
        showEntry();
        showNotice(notice, e.message);
      } else if (e.status === 403 || e.status === 404) {
        store.setAttempt(cid, null);
      }
    }
  }

  async function start(entry) {
    startButton.disabled = true;
    const label = startButton.textContent;
    startButton.textContent = "正在准备试卷…";
    try {
      const sent = Date.now();
      const attempt = await api("POST", "/contests/" + cid + "/attempts", { token: entry.token, device: true });
      store.setAttempt(cid, attempt.attempt_id);
      // The quiz page takes the paper from here rather than asking for it again (a request per attempt).
      try {
        sessionStorage.setItem("jd.paper." + attempt.attempt_id,
          JSON.stringify({ attempt: attempt, sent: sent, received: Date.now() }));
      } catch (e) { /* storage full or off: the quiz page asks */ }
      window.location.assign(playUrl);
    } catch (e) {
      startButton.disabled = false;
      startButton.textContent = label;
      if (e.status === 401) {
        store.forget(cid);
        showEntry();
      } else {
        showReady(entry);
      }
      showNotice(notice, e.message);
    }
  }

  function validate(name, phone, unitId) {
    let ok = true;
    if (!name) { fieldError("name", "请填写姓名。"); ok = false; }
    if (!/^1\d{10}$/.test(phone)) { fieldError("phone", "手机号应为 1 开头的 11 位数字。"); ok = false; }
    if (!unitId) { fieldError("unit_id", "请搜索并点选所在单位。"); ok = false; }
    return ok;
  }

  entryForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors();
    const name = entryForm.elements.name.value.trim();
    const phone = entryForm.elements.phone.value.replace(/[\s-]/g, "");
    const unitId = picker && picker.value();
    if (!validate(name, phone, unitId)) return;
    const button = document.getElementById("enter");
    button.disabled = true;
    button.textContent = "正在报名…";
    try {
      const body = await api("POST", "/contests/" + cid + "/entrants", { body: { name: name, phone: phone, unit_id: unitId }, device: true });
      const entry = { token: body.token, name: name, unit: document.getElementById("unit-search").value };
      store.setEntry(cid, entry);
      store.setAttempt(cid, null);
      await showReady(entry);
      await start(entry);
    } catch (err) {
      if (err.field) fieldError(err.field, err.message);
      else showNotice(notice, err.message);
    } finally {
      button.disabled = false;
      button.textContent = "报名并开始";
    }
  });

  startButton.addEventListener("click", () => {
    const entry = store.entry(cid);
    if (entry) start(entry);
    else showEntry();
  });

  document.getElementById("switch-person").addEventListener("click", () => {
    store.forget(cid);
    lastResult.hidden = true;
    showEntry();
  });

  if (root.dataset.status !== "open") return; // the page already says why there is no form
  const entry = store.entry(cid);
  if (entry && entry.token) showReady(entry);
  else showEntry();
})();

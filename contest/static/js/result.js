// The result of one attempt: score, rank, personal best, and the review when the contest allows.
(function () {
  "use strict";
  const { api, store, el, showNotice, score, duration, answerText, TYPE_NAMES } = window.JD;
  const root = document.getElementById("result");
  const cid = root.dataset.cid;
  const aid = root.dataset.aid;
  const $ = (id) => document.getElementById(id);

  function show(result) {
    $("loading").hidden = true;
    if (sessionStorage.getItem("jd.auto." + aid)) {
      sessionStorage.removeItem("jd.auto." + aid);
      showNotice($("notice"), "答题时间已到，系统已按截止前保存的答案自动交卷。", "info");
    }
    $("r-score").textContent = score(result.score);
    $("r-max").textContent = score(result.max_score);
    $("r-rank").textContent = result.rank ? "第 " + result.rank + " 名" : "–";
    $("r-best").textContent = score(result.best_score) + " 分";
    $("r-correct").textContent = result.correct + " / " + result.question_count + " 题";
    $("r-duration").textContent = duration(result.duration_ms);
    $("score").hidden = false;
    if (!result.review || !result.review.length) {
      $("no-review").hidden = false;
      return;
    }
    $("review-list").replaceChildren(...result.review.map((item, i) => {
      const options = item.options && item.options.length
        ? el("ol", { class: "review-options" }, ...item.options.map((text, k) => el("li", {
          class: (Array.isArray(item.correct_answer) && item.type !== "fill" && item.correct_answer.includes("ABCDEFGH"[k])) ? "right" : "",
        }, el("b", { text: "ABCDEFGH"[k] + ". " }), text)))
        : null;
      // Half credit for a correct subset of a multiple choice (where the contest gives it).
      const partial = !item.is_correct && item.points > 0;
      const verdict = item.is_correct ? "✓ 答对" : partial ? "◐ 部分正确，得 " + item.points + " 分" : "✗ 答错";
      return el("li", { class: "card review-item " + (item.is_correct ? "is-right" : partial ? "is-partial" : "is-wrong") },
        el("div", { class: "review-head" },
          el("span", { class: "qtype", text: (i + 1) + ". " + (TYPE_NAMES[item.type] || "") }),
          el("span", { class: "verdict", text: verdict })),
        el("p", { class: "stem", text: item.stem }),
        options,
        el("p", { class: "your" }, "您的答案：", el("b", { text: answerText(item.type, item.answer, item.options) })),
        el("p", { class: "right-answer" }, "正确答案：", el("b", { text: answerText(item.type, item.correct_answer, item.options) })),
        item.explanation ? el("p", { class: "explanation" }, el("b", { text: "解析：" }), item.explanation) : null);
    }));
    $("review").hidden = false;
  }

  async function load() {
    // The quiz page leaves the submit answer here, saving a request on the way in.
    const kept = sessionStorage.getItem("jd.result." + aid);
    if (kept) {
      sessionStorage.removeItem("jd.result." + aid); // a reload asks again: the rank moves on
      try {
        show(JSON.parse(kept));
        return;
      } catch (e) { /* fetch it instead */ }
    }
    const entry = store.entry(cid);
    if (!entry || !entry.token) {
      $("loading").hidden = true;
      showNotice($("notice"), "本机没有这份答卷的登录信息，请从竞赛首页重新报名查看。");
      $("notice").append(" ", el("a", { href: root.dataset.home, text: "前往竞赛首页" }));
      return;
    }
    try {
      const attempt = await api("GET", "/attempts/" + aid, { token: entry.token });
      if (attempt.status === "open") {
        window.location.replace(root.dataset.play);
        return;
      }
      show(attempt.result);
    } catch (e) {
      $("loading").hidden = true;
      showNotice($("notice"), e.message);
      $("notice").append(" ", el("a", { href: root.dataset.home, text: "返回竞赛首页" }));
    }
  }

  load();
})();

// Shared by the worker pages: the API client, what this phone remembers, and formatting.
window.JD = (function () {
  "use strict";

  const FALLBACK = {
    0: "网络连接失败，请检查网络后重试。",
    400: "提交的内容有误，请检查后重试。",
    401: "登录已失效，请重新报名。",
    403: "没有权限进行此操作。",
    404: "请求的内容不存在。",
    409: "操作与当前状态冲突。",
    429: "操作过于频繁，请稍后再试。",
    500: "服务器繁忙，请稍后重试。",
  };

  class ApiError extends Error {
    constructor(status, code, message, field) {
      super(message);
      this.status = status;
      this.code = code;
      this.field = field || null;
    }
    // Worth sending again later: the network, throttling or a passing server fault.
    get transient() {
      return this.status === 0 || this.status >= 500 || (this.status === 429 && this.code !== "attempts_used_up");
    }
  }

  /** Calls /api/v1; answers the JSON body or throws ApiError with the server's Chinese message. */
  async function api(method, path, options) {
    const opts = options || {};
    const headers = { Accept: "application/json" };
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    if (opts.token) headers.Authorization = "Bearer " + opts.token;
    if (opts.device) headers["X-Device-Id"] = deviceId();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), opts.timeout || 15000);
    let response;
    try {
      response = await fetch("/api/v1" + path, {
        method: method,
        headers: headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: controller.signal,
        cache: "no-store",
        credentials: "omit",
      });
    } catch (e) {
      throw new ApiError(0, "network", FALLBACK[0]);
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    if (!response.ok) {
      const status = response.status;
      const message = (data && data.message) || FALLBACK[status] || FALLBACK[status >= 500 ? 500 : 400];
      throw new ApiError(status, (data && data.error) || "http_" + status, message, data && data.field);
    }
    return data;
  }

  // localStorage can be missing or full (private browsing): remember what we can, never fail.
  function load(key) {
    try {
      const raw = window.localStorage.getItem(key);
      return raw ? JSON.parse(raw) : null;
    } catch (e) {
      return null;
    }
  }
  function save(key, value) {
    try {
      if (value === null || value === undefined) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, JSON.stringify(value));
    } catch (e) {
      /* nothing to do: the page still works, only resuming after a reload is lost */
    }
  }

  // A random id this browser keeps, sent on entry and attempt start so staff can see many
  // entrants on one phone (the workbook's 公平性核查). Not derived from anything about the phone.
  let device = null;
  function deviceId() {
    if (device) return device;
    device = load("jd.device");
    if (typeof device !== "string" || !/^[A-Za-z0-9_-]{16,64}$/.test(device)) {
      const bytes = new Uint8Array(16);
      window.crypto.getRandomValues(bytes);
      device = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
      save("jd.device", device);
    }
    return device;
  }

  // Per contest: who entered on this phone ({token, name, unit}) and the attempt in progress.
  const store = {
    entry: (cid) => load("jd.entry." + cid),
    setEntry: (cid, entry) => save("jd.entry." + cid, entry),
    attempt: (cid) => load("jd.attempt." + cid),
    setAttempt: (cid, aid) => save("jd.attempt." + cid, aid),
    pending: (aid) => load("jd.pending." + aid) || {},
    setPending: (aid, pending) => save("jd.pending." + aid, Object.keys(pending).length ? pending : null),
    forget(cid) {
      const aid = load("jd.attempt." + cid);
      if (aid) save("jd.pending." + aid, null);
      save("jd.entry." + cid, null);
      save("jd.attempt." + cid, null);
    },
  };

  const LETTERS = "ABCDEFGH";
  const TYPE_NAMES = { single: "单选题", multiple: "多选题", judge: "判断题", fill: "填空题" };

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  /** 125 → "02:05"; an hour or more → "1:02:05". */
  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(s % 60);
  }

  /** 83500 → "1分23.5秒". */
  function duration(ms) {
    if (ms === null || ms === undefined) return "–";
    const tenths = Math.round(ms / 100);
    const m = Math.floor(tenths / 600);
    const rest = (tenths - m * 600) / 10;
    const s = Number.isInteger(rest) ? String(rest) : rest.toFixed(1);
    return (m ? m + "分" : "") + s + "秒";
  }

  function score(value) {
    if (value === null || value === undefined) return "–";
    return Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100);
  }

  function number(value) {
    return (value || 0).toLocaleString("zh-CN");
  }

  /** An answer as a worker reads it: "B. 乙", "正确", or the text typed. */
  function answerText(type, answer, options) {
    if (answer === null || answer === undefined || answer === "") return "未作答";
    if (type === "judge") return answer === true ? "正确" : answer === false ? "错误" : String(answer);
    if (type === "fill") return Array.isArray(answer) ? answer.join(" / ") : String(answer);
    if (!Array.isArray(answer)) return String(answer);
    return answer.map((l) => l + (options && options[LETTERS.indexOf(l)] !== undefined ? ". " + options[LETTERS.indexOf(l)] : "")).join("；");
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child);
    }
    return node;
  }

  function showNotice(node, message, kind) {
    if (!node) return;
    node.textContent = message || "";
    node.hidden = !message;
    node.className = "notice" + (kind ? " notice-" + kind : " notice-error");
  }

  return {
    api, ApiError, store, LETTERS, TYPE_NAMES, clock, duration, score, number, answerText, el, showNotice,
  };
})();

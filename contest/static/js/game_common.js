// Shared by the live-game pages: the /live socket, acknowledged emits, the server clock, option letters.
window.Game = (function () {
  "use strict";
  const LETTERS = "ABCDEFGH";

  function connect(onUp, onDown) {
    const socket = io("/live", { transports: ["websocket", "polling"], reconnectionDelayMax: 3000 });
    socket.on("connect", onUp);
    socket.on("disconnect", onDown);
    socket.on("connect_error", onDown);
    return socket;
  }

  /** Emit with an acknowledgement; resolves with the body, rejects with {error, message}. */
  function call(socket, event, body) {
    return new Promise((resolve, reject) => {
      socket.timeout(10000).emit(event, body, (err, ack) => {
        if (err) return reject({ error: "timeout", message: "网络不稳定，请稍候重试。" });
        if (ack && ack.error) return reject(ack);
        resolve(ack);
      });
    });
  }

  // The countdown follows the server's deadline, corrected by how far this device's clock is off.
  let offsetMs = 0;
  function syncClock(serverTime) {
    if (serverTime) offsetMs = Date.parse(serverTime) - Date.now();
  }
  function leftMs(deadline) {
    return Math.max(0, Date.parse(deadline) - (Date.now() + offsetMs));
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;  // never innerHTML: names are typed by players
    return node;
  }

  function show(views, name) {
    for (const [key, node] of Object.entries(views)) node.hidden = key !== name;
  }

  function answerText(result) {
    const key = result.correct_answer;
    if (key === true) return "正确";
    if (key === false) return "错误";
    if (!Array.isArray(key)) return String(key);
    // "D 余村": the letter with its option, so the hall and the phones need not look back.
    const options = result.options || [];
    return key.map((letter) => {
      const text = options[LETTERS.indexOf(letter)];
      return text ? letter + " " + text : letter;
    }).join("、");
  }

  return { LETTERS, connect, call, syncClock, leftMs, el, show, answerText };
})();

// The /live channel for a contest's public pages, with HTTP polling while the socket is down.
window.Live = function (cid, handlers, options) {
  "use strict";
  const { api } = window.JD;
  const limit = (options && options.limit) || 10;
  const POLL_MS = 15000;
  let pollTimer = null;
  let downSince = null;

  function setState(state, message) {
    if (handlers.state) handlers.state(state, message);
  }

  async function poll() {
    try {
      const [board, units] = await Promise.all([
        api("GET", "/contests/" + cid + "/leaderboard?limit=" + limit),
        api("GET", "/contests/" + cid + "/units/stats"),
      ]);
      handlers.leaderboard(board, "poll");
      handlers.stats({
        participants: board.participants,
        attempts: units.reduce((sum, u) => sum + u.attempts, 0),
        units: units.slice(0, 20),
      }, "poll");
    } catch (e) {
      /* the next poll or the socket's return brings the news */
    }
  }

  // Polling starts only after the socket has been down a while, so a blip costs no requests.
  function startPolling() {
    if (pollTimer) return;
    pollTimer = setInterval(() => {
      if (downSince && Date.now() - downSince > 5000) poll();
    }, POLL_MS);
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
    downSince = null;
  }

  if (typeof window.io !== "function") {
    setState("offline", "实时连接不可用，每 15 秒刷新");
    downSince = 0;
    startPolling();
    return { refresh: poll };
  }

  const socket = window.io("/live", { reconnectionDelayMax: 10000 });
  socket.on("connect", () => {
    socket.emit("join", { contest: Number(cid) }, (ack) => {
      if (ack && ack.error) setState("error", ack.message);
      else {
        stopPolling();
        setState("live");
      }
    });
  });
  function down() {
    if (!downSince) downSince = Date.now();
    setState("reconnecting");
    startPolling();
  }
  socket.on("disconnect", down);
  socket.on("connect_error", down);
  socket.on("leaderboard", (body) => handlers.leaderboard(body, "push"));
  socket.on("stats", (body) => handlers.stats(body, "push"));
  return { refresh: poll, socket: socket };
};

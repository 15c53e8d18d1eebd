// The contest monitor: polls the monitor JSON every 2 s and redraws counters, chart and units.
(function () {
  const counters = document.getElementById("counters");
  const url = counters.dataset.url;

  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  function draw(data) {
    counters.querySelectorAll("[data-k]").forEach((el) => {
      el.textContent = (data[el.dataset.k] ?? 0).toLocaleString("zh-CN");
    });
    const chart = document.getElementById("per-minute");
    const top = Math.max(1, ...data.per_minute.map((m) => m.answers));
    chart.replaceChildren(...data.per_minute.map((m) => {
      const bar = document.createElement("div");
      bar.className = "bar";
      bar.style.height = `${Math.round((m.answers / top) * 100)}%`;
      bar.title = `${m.minute}  ${m.answers} 个答案`;
      return bar;
    }));
    const rows = data.units.map((u) => {
      const tr = document.createElement("tr");
      tr.append(cell(u.name), cell(u.headcount, "num"), cell(u.participants, "num"),
        cell(`${(u.participation_rate * 100).toFixed(1)}%`, "num"), cell(u.attempts, "num"),
        cell(u.avg_best_score, "num"));
      return tr;
    });
    document.getElementById("units").replaceChildren(...rows);
    document.getElementById("updated").textContent = `更新于 ${new Date().toLocaleTimeString("zh-CN")}，每 2 秒刷新`;
  }

  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (response.ok) draw(await response.json());
      else document.getElementById("updated").textContent = "加载失败，正在重试…";
    } catch (e) {
      document.getElementById("updated").textContent = "网络中断，正在重试…";
    }
    setTimeout(poll, 2000);
  }
  poll();
})();

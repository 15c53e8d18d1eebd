// A searchable picker over the contest's units (hundreds): filtered on the phone, no round trips.
// Chinese input methods send composition events; we filter on the finished text, not on pinyin.
window.UnitPicker = function (root) {
  "use strict";
  const search = root.querySelector("#unit-search");
  const hidden = root.querySelector("#unit-id");
  const list = root.querySelector("#unit-list");
  const hint = root.querySelector("#unit-hint");
  const SHOWN = 50;
  let units = [];
  let matches = [];
  let active = -1;
  let composing = false;
  let picked = null;

  // Width and case folded, spaces dropped: "ＡＢＣ 公司" finds "abc公司".
  function fold(text) {
    return (text || "").normalize("NFKC").toLowerCase().replace(/\s+/g, "");
  }

  function setHint(text) {
    hint.textContent = text;
    hint.hidden = !text;
  }

  function open(isOpen) {
    list.hidden = !isOpen;
    search.setAttribute("aria-expanded", isOpen ? "true" : "false");
  }

  function render() {
    const words = fold(search.value);
    matches = words ? units.filter((u) => u.key.includes(words)) : units;
    active = matches.length ? 0 : -1;
    const items = matches.slice(0, SHOWN).map((u, i) => {
      const li = window.JD.el("li", { role: "option", id: "unit-opt-" + u.id, "data-id": u.id, "aria-selected": i === active ? "true" : "false" });
      // Highlight the match where the name has it as typed (folding can make it differ).
      const at = words ? u.name.toLowerCase().indexOf(words) : -1;
      if (at >= 0) {
        li.append(u.name.slice(0, at), window.JD.el("mark", { text: u.name.slice(at, at + words.length) }), u.name.slice(at + words.length));
      } else {
        li.textContent = u.name;
      }
      return li;
    });
    list.replaceChildren(...items);
    if (!units.length) setHint("单位列表为空，请联系组织者。");
    else if (!matches.length) setHint("没有找到包含“" + search.value.trim() + "”的单位，请换个关键词。");
    else if (matches.length > SHOWN) setHint("共 " + matches.length + " 个单位，显示前 " + SHOWN + " 个；输入更多字词可缩小范围。");
    else setHint(words ? "找到 " + matches.length + " 个单位，点按选择。" : "");
    open(!!items.length);
  }

  function choose(unit) {
    picked = unit;
    hidden.value = String(unit.id);
    search.value = unit.name;
    root.classList.add("picked");
    open(false);
    setHint("");
    root.dispatchEvent(new CustomEvent("unitpicked", { detail: unit }));
  }

  function highlight(index) {
    const items = list.querySelectorAll("li");
    if (!items.length) return;
    active = (index + items.length) % items.length;
    items.forEach((li, i) => li.setAttribute("aria-selected", i === active ? "true" : "false"));
    items[active].scrollIntoView({ block: "nearest" });
    search.setAttribute("aria-activedescendant", items[active].id);
  }

  function changed() {
    if (picked && search.value !== picked.name) {
      picked = null;
      hidden.value = "";
      root.classList.remove("picked");
    }
    render();
  }

  search.addEventListener("compositionstart", () => { composing = true; });
  search.addEventListener("compositionend", () => { composing = false; changed(); });
  search.addEventListener("input", (e) => { if (!composing && !e.isComposing) changed(); });
  search.addEventListener("focus", () => { if (!picked) render(); });
  search.addEventListener("keydown", (e) => {
    if (e.isComposing || list.hidden) return;
    if (e.key === "ArrowDown") { e.preventDefault(); highlight(active + 1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); highlight(active - 1); }
    else if (e.key === "Enter" && active >= 0 && matches[active]) { e.preventDefault(); choose(matches[active]); }
    else if (e.key === "Escape") open(false);
  });
  // pointerdown comes before the input's blur, so the pick is not lost when the list closes.
  list.addEventListener("pointerdown", (e) => e.preventDefault());
  list.addEventListener("click", (e) => {
    const li = e.target.closest("li[data-id]");
    if (!li) return;
    const unit = units.find((u) => String(u.id) === li.dataset.id);
    if (unit) choose(unit);
  });
  search.addEventListener("blur", () => setTimeout(() => open(false), 150));

  async function loadUnits() {
    try {
      const rows = await window.JD.api("GET", root.dataset.unitsUrl.replace(/^\/api\/v1/, ""));
      units = rows.map((u) => ({ id: u.id, name: u.name, key: fold(u.name) }));
      setHint("共 " + units.length + " 个单位，输入关键词搜索后点按选择。");
      if (document.activeElement === search) render();
    } catch (e) {
      setHint(e.message + "（单位列表加载失败，");
      hint.append(window.JD.el("button", { type: "button", class: "link", text: "重试" }), "）");
      hint.querySelector("button").addEventListener("click", loadUnits);
    }
  }
  loadUnits();

  return {
    // A name typed out in full counts as picked, even without tapping the list.
    value() {
      if (!hidden.value) {
        const typed = fold(search.value);
        const exact = typed && units.find((u) => u.key === typed);
        if (exact) choose(exact);
      }
      return hidden.value ? Number(hidden.value) : null;
    },
    set(id, name) {
      const unit = units.find((u) => u.id === id) || { id: id, name: name, key: fold(name) };
      choose(unit);
    },
    focus: () => search.focus(),
  };
};

// The desk's keyboard and live queue. No framework: htmx swaps the rows, this file keeps the
// agent's place (highlighted row, ticked rows) across those swaps and maps the keys.
//   Queue page:    j / k move, Enter opens, x ticks the row, / jumps to the search box.
//   Incident page: any element with data-shortcut="<key>" (a: accept, r: reply, n: note).
(function () {
  "use strict";

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  // --- queue page ----------------------------------------------------------------------------
  const ticked = new Set(); // incident numbers ticked by the agent
  let current = null; // number of the highlighted row

  function rows() {
    return Array.from(document.querySelectorAll("#queue-rows tr[data-number]"));
  }

  function highlight(row) {
    rows().forEach(function (r) {
      r.classList.toggle("current", r === row);
      r.setAttribute("aria-selected", r === row ? "true" : "false");
    });
    if (row) {
      current = row.dataset.number;
      row.scrollIntoView({ block: "nearest" });
    }
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const at = all.findIndex(function (r) { return r.dataset.number === current; });
    const next = at < 0 ? 0 : Math.min(all.length - 1, Math.max(0, at + step));
    highlight(all[next]);
  }

  function currentRow() {
    return rows().find(function (r) { return r.dataset.number === current; }) || null;
  }

  function countTicked() {
    const out = document.querySelector("[data-selected-count]");
    if (out) out.textContent = ticked.size ? ticked.size + " selected" : "";
  }

  function restore() {
    // After a refresh: the same rows stay ticked and highlighted, whatever moved around them.
    rows().forEach(function (r) {
      const box = r.querySelector("input[type=checkbox][data-number]");
      if (box) box.checked = ticked.has(r.dataset.number);
    });
    const row = currentRow();
    if (row) {
      row.classList.add("current");
      row.setAttribute("aria-selected", "true");
    }
    countTicked();
  }

  function queueKey(event) {
    const row = currentRow();
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter":
        if (!row) return;
        window.location.href = row.dataset.href;
        break;
      case "x": {
        if (!row) return;
        const box = row.querySelector("input[type=checkbox]");
        box.checked = !box.checked;
        box.dispatchEvent(new Event("change", { bubbles: true }));
        break;
      }
      case "/": {
        const search = document.querySelector("#filter-form input[type=search]");
        if (search) search.focus();
        break;
      }
      default: return;
    }
    event.preventDefault();
  }

  // --- incident page -------------------------------------------------------------------------
  function shortcutKey(event) {
    const target = document.querySelector('[data-shortcut="' + event.key + '"]');
    if (!target) return;
    event.preventDefault();
    if (target.tagName === "DETAILS") {
      target.open = true;
      const field = target.querySelector("textarea, input:not([type=hidden]), select");
      if (field) field.focus();
    } else {
      target.click();
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const page = document.querySelector("[data-desk-page]");
    if (!page) return;
    if (page.dataset.deskPage === "queue") queueKey(event);
    else shortcutKey(event);
  });

  document.addEventListener("change", function (event) {
    const box = event.target;
    if (!box.matches || !box.matches("#queue-rows input[type=checkbox][data-number]")) return;
    if (box.checked) ticked.add(box.dataset.number);
    else ticked.delete(box.dataset.number);
    countTicked();
  });

  document.addEventListener("click", function (event) {
    // A click on a row (not on its link or box) highlights it, as j/k would.
    const row = event.target.closest && event.target.closest("#queue-rows tr[data-number]");
    if (row && !event.target.closest("a, input, button, label")) highlight(row);
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#queue-rows input[type=checkbox][data-number]:checked")
      .forEach(function (box) { ticked.add(box.dataset.number); });
    countTicked();
  });

  document.addEventListener("htmx:afterSettle", restore);
  document.addEventListener("htmx:load", restore);
  document.addEventListener("htmx:oobAfterSwap", countTicked);
})();

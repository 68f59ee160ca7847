// Priority matrix page: offer the levels typed in the scale in every cell's select, live.
// Without this script the "Update the level choices" button does the same through the server.
(function () {
  function levels(form) {
    const seen = new Map();
    form.querySelectorAll("[data-level-row]").forEach(function (row) {
      const inputs = row.querySelectorAll("input");
      const slug = inputs[0].value.trim().toLowerCase();
      const label = inputs[1].value.trim();
      if (slug && !seen.has(slug)) seen.set(slug, label || slug);
    });
    return seen;
  }

  function refill(select, scale) {
    const picked = select.value;
    select.replaceChildren(new Option("— choose —", ""));
    scale.forEach(function (label, slug) { select.add(new Option(label, slug)); });
    if (picked && !scale.has(picked)) select.add(new Option(picked + " (not on the scale)", picked));
    select.value = picked;
  }

  function init() {
    const form = document.querySelector("[data-matrix-form]");
    if (!form) return;
    const refresh = form.querySelector("[data-refresh]");
    if (refresh) refresh.hidden = true;
    form.addEventListener("input", function (event) {
      if (!event.target.closest("[data-level-row]")) return;
      const scale = levels(form);
      form.querySelectorAll("select").forEach(function (s) { refill(s, scale); });
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();

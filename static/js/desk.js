// Small behaviours shared by the desk's pages. Page-specific code lives next to its template.
document.addEventListener("submit", function (event) {
  // A double-click must never send a form twice: disable its buttons once it is on its way.
  const form = event.target;
  if (form.dataset.allowResubmit !== undefined) return;
  window.setTimeout(function () {
    form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
      b.disabled = true;
    });
  }, 0);
});

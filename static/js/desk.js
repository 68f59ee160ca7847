// Small behaviours shared by the desk's pages. Page-specific code lives next to its template.
// The Content-Security-Policy allows no inline code (no onclick=, no hx-on, no hx-trigger [filter]):
// a template asks for a behaviour with a data- attribute and this file provides it.
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

document.addEventListener("click", function (event) {
  if (!(event.target instanceof Element)) return;
  // <button data-dismiss="selector">: removes the nearest enclosing element matching it.
  const dismiss = event.target.closest("[data-dismiss]");
  if (dismiss) {
    const box = dismiss.closest(dismiss.dataset.dismiss);
    if (box) box.remove();
    return;
  }
  // <input data-select-on-click>: one click selects the whole value, ready to copy (a new key).
  if (event.target.matches("input[data-select-on-click]")) event.target.select();
});

// <form data-sends-title="#id">: its hidden "text" takes that field's value as it is when sent.
// The portal's "This solved it" was drawn for the title typed so far; a quick click would
// otherwise record "VPN c" for "VPN certificate expired".
document.addEventListener("submit", function (event) {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.sendsTitle) return;
  const title = document.querySelector(form.dataset.sendsTitle);
  const text = form.querySelector('input[name="text"]');
  if (title instanceof HTMLInputElement && text instanceof HTMLInputElement) {
    text.value = title.value;
  }
}, true);  // capturing: before htmx, listening on the form itself, reads the form's values

// data-poll-when-visible on an element htmx polls: no request while the tab is hidden, so a
// forgotten tab costs the server nothing. Cancelling htmx:confirm drops that one request.
document.addEventListener("htmx:confirm", function (event) {
  const elt = event.target;
  if (document.visibilityState === "hidden" && elt instanceof Element && elt.hasAttribute("data-poll-when-visible")) {
    event.preventDefault();
  }
});

// Who else has the incident open (desk/presence.py). htmx polls the list; this tells the others
// when the agent types a public reply or an internal note, at most once every few seconds, and
// shows the answer at once.
(function () {
  "use strict";

  const box = document.getElementById("desk-presence");
  if (!box) return;
  const EVERY_MS = 3000; // the server keeps "is typing" a little longer than this
  const KINDS = { "reply-body": "reply", "note-body": "note" };
  let last = 0;

  function csrfHeaders() {
    // base.html puts the CSRF token in the body's hx-headers for htmx; fetch uses the same.
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    } catch (error) {
      return {};
    }
  }

  document.addEventListener("input", function (event) {
    const kind = KINDS[event.target.name];
    if (!(event.target instanceof HTMLTextAreaElement) || !kind) return;
    const now = Date.now();
    if (now - last < EVERY_MS) return;
    last = now;
    const body = new FormData();
    body.append("typing", kind);
    fetch(box.dataset.presenceUrl, {
      method: "POST",
      body: body,
      headers: csrfHeaders(),
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null) box.innerHTML = html;
      })
      .catch(function () {}); // presence is a courtesy: a failed report is simply skipped
  });
})();

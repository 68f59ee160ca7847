// Canned responses on the desk's incident page. The server has already filled in each
// response's placeholders (as plain text); this inserts the chosen one into the reply or note
// where the agent's cursor was, or after what they typed, and never replaces their text.
(function () {
  "use strict";

  // Where the cursor was when the agent left a textarea (clicking Insert takes the focus).
  document.addEventListener("focusout", function (event) {
    const area = event.target;
    if (area instanceof HTMLTextAreaElement) area.dataset.caret = String(area.selectionEnd);
  });

  function insert(area, text) {
    const typed = area.value;
    let at = area.dataset.caret === undefined ? typed.length : Number(area.dataset.caret);
    if (!(at >= 0 && at <= typed.length)) at = typed.length;
    if (at === typed.length && typed.trim() !== "" && !typed.endsWith("\n")) {
      text = "\n\n" + text; // after the end of their text: a paragraph of its own
    }
    area.setRangeText(text, at, at, "end");
    area.dataset.caret = String(area.selectionEnd);
    area.dispatchEvent(new Event("input", { bubbles: true })); // others listen for typing
    area.focus();
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-canned-insert]");
    if (!button) return;
    const picker = button.closest("[data-canned-picker]");
    const select = picker.querySelector("select");
    const area = document.getElementById(picker.dataset.cannedTarget);
    const option = select.selectedOptions[0];
    if (!area || !option || !option.value) {
      select.focus();
      return;
    }
    insert(area, option.dataset.text);
    select.value = "";
  });
})();

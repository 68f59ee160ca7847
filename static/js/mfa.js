// Passkey pages (templates/tenancy/mfa/): what django-otp-webauthn's scripts expect around them.
// Its scripts call gettext(), which Django's JavaScript catalogue would define; the desk's words
// are English, so the words stay as they are.
if (typeof window.gettext !== "function") {
  window.gettext = function (text) { return text; };
}

// Once a passkey is stored, go on to the page that says so (and shows recovery codes, if new).
document.addEventListener("otp_webauthn.register_complete", function (event) {
  var holder = event.target.closest("[data-done-url]");
  if (holder) {
    window.location.assign(holder.getAttribute("data-done-url"));
  }
});

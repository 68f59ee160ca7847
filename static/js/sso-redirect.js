// The page after the log-in form (sso/templates/sso/redirect.html): go on to the organisation's
// sign-in page. A script navigation, not the form's redirect, because the Content-Security-Policy's
// form-action 'self' also covers the redirects after a form's POST. The link stays as a fallback.
(function () {
  "use strict";
  var link = document.querySelector("a[data-sso-continue]");
  if (link) {
    window.location.assign(link.href);
  }
})();

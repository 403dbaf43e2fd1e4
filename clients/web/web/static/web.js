// The web app's only script, loaded from our origin (the CSP allows no inline script).
// A signed-in page asks every second whether its session is still alive; when a school
// blocks the account or the session is revoked, the page goes to the signed-out page.
(function () {
  "use strict";
  var body = document.body;
  var alive = body.getAttribute("data-alive");
  if (!alive) {
    return;
  }
  var ended = body.getAttribute("data-ended");
  function ask() {
    fetch(alive, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        if (answer.status === 401) {
          window.location.assign(ended);
        } else {
          window.setTimeout(ask, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(ask, 5000); // offline: keep the page, ask again later
      });
  }
  window.setTimeout(ask, 1000);
})();

// The web app's only script, loaded from our origin (the CSP allows no inline script).
// - A signed-in page asks every second whether its session is still alive; when a school
//   blocks the account or the session is revoked, the page goes to the signed-out page.
// - The service worker (sw.js) keeps the last week for a phone without network; a copy
//   it shows carries <meta name="offline-copy">, and the banner says so with its time.
// - Signing out (or a session that ended) empties that copy: a shared phone keeps nothing.
(function () {
  "use strict";
  var body = document.body;

  function showOfflineBanner(loaded) {
    var banner = document.getElementById("offline");
    if (!banner) {
      return;
    }
    var zone = body.getAttribute("data-zone") || undefined;
    var when = new Date(loaded).toLocaleString(document.documentElement.lang, {
      timeZone: zone, day: "numeric", month: "long", hour: "2-digit", minute: "2-digit"
    });
    banner.querySelector("time").textContent = when;
    banner.querySelector("time").setAttribute("datetime", loaded);
    banner.hidden = false;
  }

  var copy = document.querySelector('meta[name="offline-copy"]');
  if (copy) {
    showOfflineBanner(copy.getAttribute("content"));
    return; // an offline copy: no session to watch, no forms to send
  }

  if ("serviceWorker" in navigator) {
    if (body.hasAttribute("data-forget")) {
      if (window.caches) {
        caches.keys().then(function (names) { names.forEach(function (n) { caches.delete(n); }); });
      }
    } else {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    }
  }

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

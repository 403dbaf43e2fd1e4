// The web app's service worker: the last week page it loaded, for a phone without network.
// Week pages go to the network first; each one that arrives replaces the copy kept. When
// the network fails, a page is answered with that copy, marked with the time it was
// loaded (web.js shows the offline banner). Signing out empties the cache (web.js).
"use strict";
var CACHE = "school-diary-v1";
var ASSETS = ["/static/web.css", "/static/web.js"];
var LAST_WEEK = "/offline/last-week";

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(ASSETS); }));
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

function isWeek(url) {
  return /^\/students\/[^/]+\/week$/.test(url.pathname);
}

function keep(response) {
  // The copy carries the moment it was loaded, read by the page when shown offline.
  return response.clone().text().then(function (html) {
    var loaded = new Date().toISOString();
    var marked = html.replace("<head>", '<head><meta name="offline-copy" content="' + loaded + '">');
    var copy = new Response(marked, { headers: { "Content-Type": "text/html; charset=utf-8" } });
    return caches.open(CACHE).then(function (cache) { return cache.put(LAST_WEEK, copy); });
  });
}

function lastWeek() {
  return caches.open(CACHE).then(function (cache) { return cache.match(LAST_WEEK); });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).then(function (response) {
        if (response.ok && isWeek(url)) {
          event.waitUntil(keep(response));
        }
        return response;
      }).catch(function () {
        return lastWeek().then(function (copy) { return copy || Response.error(); });
      })
    );
    return;
  }
  if (ASSETS.indexOf(url.pathname) >= 0) {
    event.respondWith(
      fetch(request).catch(function () {
        return caches.match(request);
      })
    );
  }
});

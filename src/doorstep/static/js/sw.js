// Doorstep's service worker, served at /sw.js for the whole site. It does three things:
// shows the offline page when a page cannot be reached, shows pushes (rings, alerts, requests,
// disclosure notices) as notifications, and opens the right page when one is clicked.
// Privacy: the only things it caches are the offline page, the stylesheet and the icon. It
// never stores an API answer, a clip or a snapshot, so no footage is left on the device.
"use strict";

// Replaced by the server with a name made from this file, the stylesheet and the offline page.
var CACHE = "doorstep-cache-unversioned";
var OFFLINE = "/offline";
var KEPT = [OFFLINE, "/static/css/doorstep.css", "/static/icons/icon-192.png"];
var ICON = "/static/icons/icon-192.png";
// A payload may carry at most this much text into a notification.
var TITLE_MAX = 120;
var BODY_MAX = 300;
var TAG_MAX = 64;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE)
      .then(function (cache) { return cache.addAll(KEPT); })
      .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  // Every other cache of this origin is an older release's: delete it.
  event.waitUntil(
    caches.keys()
      .then(function (names) {
        return Promise.all(names
          .filter(function (name) { return name !== CACHE; })
          .map(function (name) { return caches.delete(name); }));
      })
      .then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") {
    return;
  }
  if (request.mode === "navigate") {
    // Always the network; the offline page only when the network fails (never a stored copy
    // of the page that was asked for).
    event.respondWith(fetch(request).catch(function () {
      return caches.match(OFFLINE).then(function (page) {
        return page || Response.error();
      });
    }));
    return;
  }
  var url = new URL(request.url);
  if (url.origin === self.location.origin && KEPT.indexOf(url.pathname) >= 0) {
    // What the offline page itself needs, from the network first (fresh), else the cache.
    event.respondWith(fetch(request).catch(function () {
      return caches.match(url.pathname).then(function (kept) {
        return kept || Response.error();
      });
    }));
  }
  // Everything else (API, clips, snapshots, live view) goes to the network untouched.
});

// A path on this origin, or "/" for anything else: a push names a page of Doorstep, and a
// payload that names another site (or "//host") is not followed.
function samePath(url) {
  if (typeof url !== "string" || url.charAt(0) !== "/" || url.charAt(1) === "/" ||
      url.charAt(1) === "\\") {
    return "/";
  }
  var resolved;
  try {
    resolved = new URL(url, self.location.origin);
  } catch (err) {
    return "/";
  }
  if (resolved.origin !== self.location.origin) {
    return "/";
  }
  return resolved.pathname + resolved.search + resolved.hash;
}

function text(value, limit) {
  return typeof value === "string" ? value.slice(0, limit) : "";
}

// The notification for a push. Anything that is not the expected JSON object still shows a
// notice: the browser requires a visible one for every push, and the owner should look.
function notice(payload) {
  var valid = payload !== null && typeof payload === "object" && !Array.isArray(payload) &&
    text(payload.title, TITLE_MAX) !== "";
  if (!valid) {
    return {
      title: "Doorstep",
      options: {
        body: "Something happened in Doorstep. Open it to see what.",
        tag: "doorstep-notice",
        data: { url: "/" },
        icon: ICON,
      },
    };
  }
  var ring = payload.type === "ring";
  // A ring someone answered replaces that ring's notification, quietly.
  var answered = payload.type === "answered";
  var tag = text(payload.tag, TAG_MAX) || "doorstep-" + (text(payload.type, 20) || "notice");
  return {
    title: text(payload.title, TITLE_MAX),
    options: {
      body: text(payload.body, BODY_MAX),
      tag: tag,
      // A newer ring at the same door replaces the older one and alerts again.
      renotify: !answered,
      silent: answered,
      // A ring stays until the owner answers or dismisses it.
      requireInteraction: ring,
      timestamp: Date.parse(payload.at) || Date.now(),
      data: { url: samePath(payload.url), type: text(payload.type, 20) },
      icon: ICON,
    },
  };
}

function readPayload(event) {
  if (!event.data) {
    return null;
  }
  try {
    return event.data.json();
  } catch (err) {
    return null;
  }
}

self.addEventListener("push", function (event) {
  var shown = notice(readPayload(event));
  event.waitUntil(self.registration.showNotification(shown.title, shown.options));
});

// Open the notification's page: in a Doorstep window that is already open (brought to the
// front), else in a new one.
function openPage(notification) {
  var data = notification.data || {};
  var target = new URL(samePath(data.url), self.location.origin).href;
  return self.clients.matchAll({ type: "window", includeUncontrolled: true })
    .then(function (windows) {
      var open = windows.filter(function (client) {
        return new URL(client.url).origin === self.location.origin && "navigate" in client;
      });
      if (open.length === 0) {
        return self.clients.openWindow(target);
      }
      return open[0].navigate(target)
        .then(function (client) {
          var shown = client || open[0];
          // Focus needs the click's permission; a refused focus still leaves the page opened.
          return shown.focus().catch(function () { return shown; });
        })
        // A window this worker does not control cannot be navigated: open a new one.
        .catch(function () { return self.clients.openWindow(target); });
    });
}

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  event.waitUntil(openPage(event.notification));
});

// The push service replaced this browser's subscription: send the new one to the server, so
// pushes keep arriving without a visit to the account page.
self.addEventListener("pushsubscriptionchange", function (event) {
  event.waitUntil(resubscribe(event));
});

function keyBytes(base64url) {
  var padded = base64url.replace(/-/g, "+").replace(/_/g, "/");
  padded += "===".slice((padded.length + 3) % 4);
  var raw = atob(padded);
  var bytes = new Uint8Array(raw.length);
  for (var i = 0; i < raw.length; i++) {
    bytes[i] = raw.charCodeAt(i);
  }
  return bytes;
}

// The CSRF token of the session, from an open signed-in Doorstep page (its log-out form holds
// it): the worker keeps no token of its own, and the API takes no change without one.
function csrfToken() {
  return self.clients.matchAll({ type: "window" }).then(function (windows) {
    return windows.reduce(function (found, client) {
      return found.then(function (token) { return token || askPage(client); });
    }, Promise.resolve(null));
  });
}

function askPage(client) {
  return new Promise(function (resolve) {
    var channel = new MessageChannel();
    channel.port1.onmessage = function (event) { resolve(event.data || null); };
    client.postMessage("doorstep:csrf", [channel.port2]);
    setTimeout(function () { resolve(null); }, 3000);
  });
}

function resubscribe(event) {
  var fresh = event.newSubscription
    ? Promise.resolve(event.newSubscription)
    : fetch("/api/v1/push/key", { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        return self.registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(body.public_key),
        });
      });
  return Promise.all([fresh, csrfToken()]).then(function (found) {
    if (!found[1]) {
      return null; // nobody signed in here now: the account page subscribes on the next visit
    }
    return fetch("/api/v1/push/devices", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": found[1] },
      body: JSON.stringify(found[0].toJSON()),
    });
  }).catch(function () { /* offline: the account page subscribes again on the next visit */ });
}

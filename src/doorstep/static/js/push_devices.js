// The account page's "Notifications on this device": subscribe this browser to pushes (the
// browser's push service gives an endpoint and keys, which go to Doorstep's API), and list,
// rename, test and remove the account's devices.
(function () {
  "use strict";
  var root = document.getElementById("push-devices");
  if (!root) {
    return;
  }
  var csrf = root.dataset.csrf;
  var statusLine = root.querySelector("[data-push-status]");
  var enable = root.querySelector("[data-push-enable]");
  var table = root.querySelector("[data-push-table]");
  var list = root.querySelector("[data-push-list]");
  var empty = root.querySelector("[data-push-empty]");
  var DEVICES = "/api/v1/push/devices";

  function status(text) {
    statusLine.textContent = text;
  }

  function headers() {
    return { "content-type": "application/json", "x-csrf-token": csrf };
  }

  // Rejects with the problem+json detail when the API refuses.
  function call(method, url, body) {
    var options = { method: method, headers: headers(), credentials: "same-origin" };
    if (body !== undefined) {
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      if (response.ok) {
        // 202 and 204 may come without a body.
        return response.text().then(function (text) { return text ? JSON.parse(text) : null; });
      }
      return response.json().then(
        function (problem) { throw new Error(problem.detail || problem.title); },
        function () { throw new Error("the server answered " + response.status); });
    });
  }

  // A name the owner recognises in the list, e.g. "Firefox on Android"; they can rename it.
  function deviceName() {
    var agent = navigator.userAgent;
    var browser = /Edg\//.test(agent) ? "Edge" : /Firefox\//.test(agent) ? "Firefox"
      : /Chrom(e|ium)\//.test(agent) ? "Chrome" : /Safari\//.test(agent) ? "Safari" : "Browser";
    var system = /Android/.test(agent) ? "Android" : /iPhone|iPad/.test(agent) ? "iOS"
      : /Mac OS X/.test(agent) ? "macOS" : /Windows/.test(agent) ? "Windows"
      : /Linux/.test(agent) ? "Linux" : "this device";
    return browser + " on " + system;
  }

  function keyBytes(base64url) {
    var padded = base64url.replace(/-/g, "+").replace(/_/g, "/");
    padded += "===".slice((padded.length + 3) % 4);
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes;
  }

  function sameKey(subscription, key) {
    var current = subscription.options && subscription.options.applicationServerKey;
    if (!current) {
      return false;
    }
    var mine = new Uint8Array(current);
    return mine.length === key.length && mine.every(function (b, i) { return b === key[i]; });
  }

  function when(iso) {
    return iso ? new Date(iso).toLocaleString([], {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
      timeZoneName: "short"
    }) : "not yet";
  }

  function row(device) {
    var tr = document.createElement("tr");
    var nameCell = document.createElement("td");
    var label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = "push-name-" + device.id;
    label.textContent = "Name of " + device.name;
    var input = document.createElement("input");
    input.id = "push-name-" + device.id;
    input.value = device.name;
    input.maxLength = 80;
    input.required = true;
    nameCell.append(label, input);
    var service = document.createElement("td");
    service.textContent = device.service;
    var delivered = document.createElement("td");
    delivered.textContent = device.last_failure
      ? "failed: " + device.last_failure : when(device.last_success_at);
    var actions = document.createElement("td");
    function action(text, run) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link-button";
      button.textContent = text;
      button.setAttribute("aria-label", text + ": " + device.name);
      button.addEventListener("click", run);
      actions.append(button, " ");
    }
    action("Save name", function () {
      if (!input.value.trim()) {
        status("Give the device a name first: the list shows it so you know which one it is.");
        input.focus();
        return;
      }
      call("PATCH", DEVICES + "/" + encodeURIComponent(device.id), { name: input.value.trim() })
        .then(function (saved) { status("Renamed to " + saved.name + "."); return refresh(); })
        .catch(function (err) { status("Could not rename it: " + err.message); });
    });
    action("Send a test", function () {
      call("POST", DEVICES + "/" + encodeURIComponent(device.id) + "/test")
        .then(function () { status("Test notification sent to " + device.name + "."); })
        .catch(function (err) { status("Could not send a test: " + err.message); });
    });
    action("Remove", function () {
      call("DELETE", DEVICES + "/" + encodeURIComponent(device.id))
        .then(function () { status(device.name + " no longer gets notifications."); return refresh(); })
        .catch(function (err) { status("Could not remove it: " + err.message); });
    });
    tr.append(nameCell, service, delivered, actions);
    return tr;
  }

  function refresh() {
    return call("GET", DEVICES).then(function (devices) {
      list.replaceChildren.apply(list, devices.map(row));
      table.hidden = devices.length === 0;
      empty.textContent = "None yet.";
      empty.hidden = devices.length > 0;
    }).catch(function (err) {
      // Said where the list goes: the status line keeps what this browser can do.
      empty.textContent = "Your devices could not be listed: " + err.message;
      empty.hidden = false;
    });
  }

  function subscribe() {
    enable.disabled = true;
    status("Asking this browser for permission…");
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        throw new Error("notifications are blocked for Doorstep in this browser; allow them " +
          "in the site's settings, then try again");
      }
      status("Subscribing this device…");
      return Promise.all([
        navigator.serviceWorker.register("/sw.js", { scope: "/", updateViaCache: "none" })
          .then(function () { return navigator.serviceWorker.ready; }),
        call("GET", "/api/v1/push/key"),
      ]);
    }).then(function (ready) {
      var registration = ready[0];
      var key = keyBytes(ready[1].public_key);
      return registration.pushManager.getSubscription().then(function (existing) {
        // A subscription made for another server key cannot be reused: replace it.
        if (existing && sameKey(existing, key)) {
          return existing;
        }
        var gone = existing ? existing.unsubscribe() : Promise.resolve(true);
        return gone.then(function () {
          return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key })
            .catch(function (err) {
              // Permission is granted by now, so the browser's own words ("Registration failed -
              // permission denied") would mislead: say what failed and what to try.
              throw new Error("this browser could not get a subscription from its push service (" +
                err.message.replace(/\.$/, "") + "). Private windows and some browsers cannot " +
                "receive pushes: try a normal window, or another browser");
            });
        });
      });
    }).then(function (subscription) {
      var body = subscription.toJSON();
      body.name = deviceName();
      return call("POST", DEVICES, body);
    }).then(function (device) {
      status("Notifications are on for this device (" + device.name + ").");
      return refresh();
    }).catch(function (err) {
      status("Notifications could not be turned on: " + err.message.replace(/\.$/, "") + ".");
    }).then(function () {
      enable.disabled = false;
    });
  }

  refresh();
  var supported = "serviceWorker" in navigator && "PushManager" in window &&
    "Notification" in window;
  if (!supported) {
    status("This browser cannot receive push notifications. Alerts still appear while a " +
      "Doorstep page is open; on an iPhone, add Doorstep to the Home Screen first.");
    return;
  }
  if (Notification.permission === "denied") {
    status("Notifications are blocked for Doorstep in this browser. Allow them in the site's " +
      "settings, then reload this page.");
    return;
  }
  enable.hidden = false;
  enable.addEventListener("click", subscribe);
})();

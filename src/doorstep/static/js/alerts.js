// Live alerts: every open Doorstep page hears, over server-sent events, about the doorbell
// ringing (a dialog with Answer / Ignore and a chime), an event starting at a camera (a light
// notice), and new clips (a toast linking to the clip).
(function () {
  "use strict";
  var region = document.getElementById("alerts");
  var dialog = document.getElementById("ring");
  if (!region || !window.EventSource) {
    return;
  }

  // Browsers only let a page make sound after the person touched it: unlock one AudioContext at
  // the first gesture, so a later ring can chime. The gesture is remembered for this tab: on the
  // next page the context is tried at once (browsers that carry the permission across the site's
  // pages then chime without a new touch; the others wait for one).
  var GESTURE_KEY = "doorstep.gesture";
  var audio = null;
  function context() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) {
      audio = new Context();
    }
    return audio;
  }
  function unlock() {
    var sound = context();
    if (sound && sound.state === "suspended") {
      // Resuming takes a moment; the alerts region says when a ring can chime.
      sound.resume().then(function () { region.dataset.sound = sound.state; });
    } else if (sound) {
      region.dataset.sound = sound.state;
    }
    try {
      window.sessionStorage.setItem(GESTURE_KEY, "1");
    } catch (err) { /* storage off: this page still unlocks */ }
  }
  ["pointerdown", "keydown", "touchstart"].forEach(function (kind) {
    window.addEventListener(kind, unlock, { capture: true, passive: true });
  });
  try {
    if (window.sessionStorage.getItem(GESTURE_KEY) === "1") {
      context();
    }
  } catch (err) { /* storage off */ }

  // Two soft bell notes ("ding-dong"), made on the spot: nothing is fetched.
  function chime() {
    if (!audio || audio.state !== "running") {
      return false;
    }
    var start = audio.currentTime + 0.02;
    [[659.25, 0], [523.25, 0.45]].forEach(function (note) {
      var oscillator = audio.createOscillator();
      var gain = audio.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = note[0];
      gain.gain.setValueAtTime(0.0001, start + note[1]);
      gain.gain.exponentialRampToValueAtTime(0.4, start + note[1] + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + note[1] + 1.2);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(start + note[1]);
      oscillator.stop(start + note[1] + 1.25);
    });
    return true;
  }

  function toast(element) {
    region.prepend(element);
    window.setTimeout(function () { element.remove(); }, 30000);
  }

  function showClip(clip) {
    var link = document.createElement("a");
    link.className = "toast";
    link.href = "/clips/" + encodeURIComponent(clip.id);
    var image = document.createElement("img");
    image.src = clip.snapshot_url;
    image.alt = "";
    image.width = 96;
    image.height = 54;
    var text = document.createElement("span");
    var what = clip.labels.indexOf("person") >= 0 ? "Person" : "Motion";
    text.textContent = what + " at " + clip.camera_name;
    link.appendChild(image);
    link.appendChild(text);
    toast(link);
  }

  // An event that has just started at a camera: lighter than a ring, no sound, no dialog.
  // The server says which message alerts (once per event, by the camera's alert rules); a later
  // message about an event on screen (its label became known) updates the same notice.
  var started = {};
  function showStarted(event) {
    var key = event.camera_id + "/" + event.event_id;
    var notice = started[key];
    var shown = notice && notice.isConnected;
    if (!event.alert && !shown) {
      return;
    }
    // Someone watching that very door live sees it already: no notice over the call's controls.
    var watching = document.getElementById("live");
    if (watching && watching.getAttribute("data-camera") === event.camera_id) {
      return;
    }
    if (!shown) {
      notice = document.createElement("div");
      notice.className = "toast light";
      notice.setAttribute("data-testid", "event-started");
      started[key] = notice;
      toast(notice);
    }
    notice.textContent = "";
    var snapshot = event.snapshot;
    if (snapshot) {
      var image = document.createElement("img");
      image.alt = "";
      image.width = 96;
      image.height = 54;
      image.src = snapshot;
      notice.appendChild(image);
    }
    var labels = event.labels || [];
    var what = labels.indexOf("person") >= 0 ? "Person" : "Motion";
    var text = document.createElement("span");
    text.textContent = what + " at " + (event.camera_name || "your camera") + " now";
    notice.appendChild(text);
  }

  // The ring dialog: one at a time; a newer ring replaces the one on screen.
  var current = null;
  var returnFocus = null;
  var dismissTimer = null;
  var snapshotUrl = null;

  function closeRing() {
    if (!dialog || dialog.hidden) {
      return;
    }
    dialog.hidden = true;
    current = null;
    window.clearTimeout(dismissTimer);
    if (snapshotUrl) {
      URL.revokeObjectURL(snapshotUrl);
      snapshotUrl = null;
    }
    if (returnFocus && document.contains(returnFocus)) {
      returnFocus.focus();
    }
    returnFocus = null;
  }

  function showRing(ring) {
    if (!dialog) {
      return;
    }
    current = ring;
    dialog.querySelector("[data-ring-title]").textContent = "Someone is at the " + ring.camera_name;
    var when = new Date(ring.at);
    dialog.querySelector("[data-ring-time]").textContent = isNaN(when) ? "" :
      "Rang at " + when.toLocaleTimeString([], {
        hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short"
      });
    var image = dialog.querySelector("[data-ring-snapshot]");
    var sealed = dialog.querySelector("[data-ring-sealed]");
    image.hidden = true;
    image.removeAttribute("src");
    sealed.hidden = !ring.e2e;
    if (ring.snapshot) {
      // Fetched with this browser's session: the snapshot is the owner's, never public.
      fetch(ring.snapshot, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("snapshot " + response.status);
          }
          return response.blob();
        })
        .then(function (blob) {
          if (current !== ring) {
            return;
          }
          if (snapshotUrl) {
            URL.revokeObjectURL(snapshotUrl);
          }
          snapshotUrl = URL.createObjectURL(blob);
          image.src = snapshotUrl;
          image.alt = "Snapshot from " + ring.camera_name + " when the bell rang";
          image.hidden = false;
        })
        .catch(function () { /* the banner stands without its picture */ });
    }
    var answer = dialog.querySelector("[data-ring-answer]");
    answer.href = "/cameras/" + encodeURIComponent(ring.camera_id) + "/live?ring=" +
      encodeURIComponent(ring.ring_id);
    if (dialog.hidden) {
      returnFocus = document.activeElement;
    }
    dialog.hidden = false;
    answer.focus();
    dialog.dataset.chime = chime() ? "played" : "locked";
    window.clearTimeout(dismissTimer);
    // The snapshot is held for two minutes; after that the ring is history, not news.
    dismissTimer = window.setTimeout(closeRing, 120000);
  }

  // Someone went to the door (this account on another device, or someone of the household):
  // the dialog on screen for that ring closes, and a quiet notice says so.
  function ringAnswered(event) {
    if (!current || current.ring_id !== event.ring_id) {
      return;
    }
    var name = current.camera_name;
    closeRing();
    var notice = document.createElement("div");
    notice.className = "toast light";
    notice.setAttribute("data-testid", "ring-answered");
    notice.textContent = event.by_you ? "You answered the " + name + " on another device" :
      "Someone in your household answered the " + name;
    toast(notice);
  }

  if (dialog) {
    dialog.querySelector("[data-ring-ignore]").addEventListener("click", closeRing);
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        closeRing();
      } else if (event.key === "Tab") {
        // Keep focus inside the dialog while it is open.
        var stops = Array.prototype.filter.call(
          dialog.querySelectorAll("a[href], button"), function (el) { return !el.hidden; });
        var first = stops[0];
        var last = stops[stops.length - 1];
        if (event.shiftKey && document.activeElement === first) {
          event.preventDefault();
          last.focus();
        } else if (!event.shiftKey && document.activeElement === last) {
          event.preventDefault();
          first.focus();
        }
      }
    });
  }

  // The browser reconnects a dropped stream by itself and sends the last id it saw, so the
  // server replays what was missed. A stream that failed outright (the server answered with an
  // error while restarting) is not retried by the browser: it is reopened here, with that id.
  var lastId = "";
  var source;
  function heard(handle) {
    return function (message) {
      if (message.lastEventId) {
        lastId = message.lastEventId;
      }
      handle(JSON.parse(message.data));
    };
  }
  function open() {
    var query = lastId ? "?last_event_id=" + encodeURIComponent(lastId) : "";
    source = new EventSource("/api/v1/events" + query);
    source.addEventListener("clip", heard(function (event) {
      if (event.alert) {
        showClip(event.clip);
      }
    }));
    source.addEventListener("ring", heard(showRing));
    source.addEventListener("ring_answered", heard(ringAnswered));
    ["event_started", "event_updated"].forEach(function (kind) {
      source.addEventListener(kind, heard(showStarted));
    });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
        window.setTimeout(open, 5000);
      }
    });
  }
  open();
  window.addEventListener("pagehide", function () { source.close(); });
})();

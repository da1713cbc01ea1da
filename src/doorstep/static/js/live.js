// Live view and answering over WebRTC: this browser calls the doorbell's agent directly.
// The server only passes the offer and the answer along; pictures and sound go browser <-> agent,
// DTLS-SRTP encrypted (through the TURN relay when a home router is in the way, still encrypted).
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root) {
    return;
  }
  var camera = root.dataset.camera;
  var ringId = root.dataset.ring || null;
  var csrf = root.dataset.csrf;
  var statusLine = root.querySelector("[data-testid=live-status]");
  var video = root.querySelector("video");
  var speaker = root.querySelector("audio");
  var talkButton = root.querySelector("[data-live-talk]");
  var muteButton = root.querySelector("[data-live-mute]");
  var hangupButton = root.querySelector("[data-live-hangup]");
  var again = root.querySelector("[data-live-again]");
  var replies = root.querySelector("[data-live-replies]");

  var GATHER_SECONDS = 8;
  var pc = null;
  var channel = null;
  var audioSender = null;
  var microphone = null;
  var sessionId = null;
  var finished = false;

  function status(state, text) {
    statusLine.dataset.state = state;
    statusLine.textContent = text;
    root.dataset.state = state;
  }

  function headers() {
    return { "content-type": "application/json", "x-csrf-token": csrf };
  }

  // A problem+json reply says what went wrong in its detail; use it in the status line.
  function reason(response) {
    return response.json().then(
      function (body) { return body.detail || body.title || "error " + response.status; },
      function () { return "error " + response.status; });
  }

  function stopMicrophone() {
    if (microphone) {
      microphone.getTracks().forEach(function (track) { track.stop(); });
      microphone = null;
    }
  }

  // Tell the server the call is over, so the doorbell hears it at once and stops sending.
  // keepalive lets the request outlive the page when it is closing.
  function hangUpSession() {
    if (sessionId) {
      fetch("/api/v1/live-sessions/" + encodeURIComponent(sessionId), {
        method: "DELETE", headers: headers(), credentials: "same-origin", keepalive: true,
      }).catch(function () { /* the session expires on its own */ });
    }
  }

  // End the call: end the session, close the connection, release the microphone.
  function end(state, text) {
    if (finished) {
      return;
    }
    finished = true;
    hangUpSession();
    stopMicrophone();
    if (channel) {
      channel.close();
    }
    if (pc) {
      pc.close();
    }
    talkButton.disabled = true;
    talkButton.setAttribute("aria-pressed", "false");
    hangupButton.disabled = true;
    muteButton.disabled = true;
    replies.textContent = "";
    // The call is over: offer the next one rather than leave a dead page.
    if (again) {
      again.hidden = false;
    }
    status(state, text);
  }

  function waitForGathering(connection) {
    if (connection.iceGatheringState === "complete") {
      return Promise.resolve();
    }
    return new Promise(function (resolve) {
      var timer = window.setTimeout(resolve, GATHER_SECONDS * 1000);
      connection.addEventListener("icegatheringstatechange", function () {
        if (connection.iceGatheringState === "complete") {
          window.clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  // Long-poll the session until the doorbell answers, the session ends, or it expires.
  async function awaitAnswer(expiresAt) {
    while (!finished) {
      var response = await fetch("/api/v1/live-sessions/" + encodeURIComponent(sessionId) + "?wait=10",
        { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) {
        throw new Error(await reason(response));
      }
      var session = await response.json();
      if (session.answer) {
        return session.answer;
      }
      if (session.state === "ended") {
        throw new Error("the doorbell did not answer (is it online?)");
      }
      if (Date.now() > expiresAt + 2000) {
        throw new Error("the doorbell did not answer in time (is it online?)");
      }
    }
    return null;
  }

  function playSpeaker() {
    if (!speaker.srcObject) {
      return;
    }
    speaker.play().catch(function () {
      // Autoplay with sound refused until the next tap: show the sound as muted until then.
      muteButton.setAttribute("aria-pressed", "true");
      speaker.muted = true;
    });
  }

  function showReplies(list) {
    replies.textContent = "";
    list.forEach(function (reply) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button secondary";
      button.textContent = reply.label;
      button.addEventListener("click", function () {
        if (channel && channel.readyState === "open") {
          channel.send(JSON.stringify({ type: "quick_reply", id: reply.id }));
          status("live", "Live: playing “" + reply.label + "” at the door");
        }
      });
      item.appendChild(button);
      replies.appendChild(item);
    });
  }

  async function start() {
    if (!window.RTCPeerConnection) {
      root.querySelector("[data-live-fallback]").hidden = false;
      status("failed", "Failed: this browser cannot make WebRTC calls");
      return;
    }
    status("connecting", "Connecting…");
    var turn = await fetch("/api/v1/turn", { credentials: "same-origin", cache: "no-store" });
    if (!turn.ok) {
      throw new Error(await reason(turn));
    }
    var relay = await turn.json();
    pc = new RTCPeerConnection({ iceServers: relay.ice_servers || [] });
    pc.addTransceiver("video", { direction: "recvonly" });
    // Audio both ways: the visitor's sound (when the owner turned it on), and the owner's voice,
    // whose microphone is attached only once Talk is pressed.
    audioSender = pc.addTransceiver("audio", { direction: "sendrecv" }).sender;
    channel = pc.createDataChannel("doorstep");
    channel.addEventListener("message", function (message) {
      var data;
      try {
        data = JSON.parse(message.data);
      } catch (err) {
        return;
      }
      if (data.type === "hello" && Array.isArray(data.quick_replies)) {
        showReplies(data.quick_replies);
      }
    });
    channel.addEventListener("close", function () {
      if (!finished) {
        end("ended", "Ended: the doorbell closed the call");
      }
    });
    pc.addEventListener("track", function (event) {
      var stream = event.streams[0] || new MediaStream([event.track]);
      if (event.track.kind === "video") {
        video.srcObject = stream;
      } else {
        speaker.srcObject = new MediaStream([event.track]);
        playSpeaker();
      }
    });
    pc.addEventListener("connectionstatechange", function () {
      if (finished) {
        return;
      }
      var state = pc.connectionState;
      if (state === "connected") {
        status("live", "Live");
        talkButton.disabled = false;
      } else if (state === "disconnected") {
        status("connecting", "Reconnecting…");
      } else if (state === "failed") {
        end("failed", "Failed: no network path to the doorbell");
      }
    });

    await pc.setLocalDescription(await pc.createOffer());
    // No trickle: every candidate travels inside the offer.
    await waitForGathering(pc);
    if (finished) {
      return;
    }
    var response = await fetch("/api/v1/cameras/" + encodeURIComponent(camera) + "/live-sessions", {
      method: "POST",
      headers: headers(),
      credentials: "same-origin",
      body: JSON.stringify({
        offer: { type: "offer", sdp: pc.localDescription.sdp },
        ring_id: ringId,
      }),
    });
    if (!response.ok) {
      throw new Error(await reason(response));
    }
    var session = await response.json();
    sessionId = session.id;
    if (finished) {
      // Hung up while the offer was on its way: end the session it made.
      hangUpSession();
      return;
    }
    status("connecting", "Calling the doorbell…");
    var answer = await awaitAnswer(Date.parse(session.expires_at));
    if (!answer || finished) {
      return;
    }
    await pc.setRemoteDescription(answer);
  }

  talkButton.addEventListener("click", async function () {
    var on = talkButton.getAttribute("aria-pressed") !== "true";
    playSpeaker();
    if (on && !microphone) {
      try {
        microphone = await navigator.mediaDevices.getUserMedia({
          audio: { echoCancellation: true, noiseSuppression: true }, video: false,
        });
      } catch (err) {
        status("live", "Live (the microphone is not available: " + err.message + ")");
        return;
      }
      if (finished) {
        stopMicrophone();
        return;
      }
      await audioSender.replaceTrack(microphone.getAudioTracks()[0]);
    }
    if (microphone) {
      microphone.getAudioTracks().forEach(function (track) { track.enabled = on; });
    }
    // A toggle keeps its name ("Talk") and says whether it is on with aria-pressed.
    talkButton.setAttribute("aria-pressed", on ? "true" : "false");
    status("live", on ? "Live: talking to the door" : "Live");
  });

  muteButton.addEventListener("click", function () {
    var muted = muteButton.getAttribute("aria-pressed") !== "true";
    speaker.muted = muted;
    if (!muted) {
      playSpeaker();
    }
    muteButton.setAttribute("aria-pressed", muted ? "true" : "false");
  });

  hangupButton.addEventListener("click", function () {
    end("ended", "Ended: you hung up");
  });

  // Leaving the page ends the call; keepalive lets the DELETE outlive the page.
  window.addEventListener("pagehide", function () {
    end("ended", "Ended");
  });

  start().catch(function (err) {
    end("failed", "Failed: " + (err && err.message ? err.message : "could not start live view"));
  });
})();

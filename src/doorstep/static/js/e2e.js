// End-to-end encryption in the owner's browser. The passphrase never leaves this page: it is
// turned into a key here (PBKDF2-SHA256), the server only ever gets a random salt and a check
// value, and sealed clips are opened here with AES-256-GCM, chunk by chunk, as the agent sealed them.
(function () {
  "use strict";
  var ROUNDS = 310000;
  var CHECK_LABEL = new TextEncoder().encode("doorstep end-to-end passphrase check v1");
  var TAG = 16;
  var HEADER = 17;

  function hex(bytes) {
    return Array.prototype.map.call(new Uint8Array(bytes), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function unhex(text) {
    var out = new Uint8Array(text.length / 2);
    for (var i = 0; i < out.length; i++) {
      out[i] = parseInt(text.substr(i * 2, 2), 16);
    }
    return out;
  }

  async function deriveKeyBits(passphrase, salt) {
    var base = await crypto.subtle.importKey(
      "raw", new TextEncoder().encode(passphrase), "PBKDF2", false, ["deriveBits"]);
    return crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt: salt, iterations: ROUNDS }, base, 256);
  }

  async function checkValue(keyBits) {
    var macKey = await crypto.subtle.importKey(
      "raw", keyBits, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return hex(await crypto.subtle.sign("HMAC", macKey, CHECK_LABEL));
  }

  function be32(n) {
    return new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  }

  async function openSealed(keyBits, sealed) {
    var data = new Uint8Array(sealed);
    var magic = String.fromCharCode(data[0], data[1], data[2], data[3]);
    if (data.length < HEADER + TAG || magic !== "DSCL" || data[4] !== 1) {
      throw new Error("not a sealed Doorstep file");
    }
    var view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    var chunkSize = view.getUint32(5);
    var header = data.slice(0, HEADER);
    var prefix = data.slice(9, HEADER);
    var key = await crypto.subtle.importKey("raw", keyBits, "AES-GCM", false, ["decrypt"]);
    var sealedChunk = chunkSize + TAG;
    var body = data.length - HEADER;
    var count = Math.ceil(body / sealedChunk);
    var parts = [];
    for (var i = 0; i < count; i++) {
      var start = HEADER + i * sealedChunk;
      var chunk = data.subarray(start, Math.min(start + sealedChunk, data.length));
      var nonce = new Uint8Array(12);
      nonce.set(prefix, 0);
      nonce.set(be32(i), 8);
      var aad = new Uint8Array(HEADER + 5);
      aad.set(header, 0);
      aad.set(be32(i), HEADER);
      aad[HEADER + 4] = i === count - 1 ? 1 : 0;
      parts.push(await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 }, key, chunk));
    }
    return parts;
  }

  function say(element, text, isError) {
    element.textContent = text;
    element.className = isError ? "alert error" : "alert success";
  }

  // Turning it on, from the camera page.
  var form = document.getElementById("e2e-form");
  if (form) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var status = document.getElementById("e2e-status");
      var passphrase = document.getElementById("e2e-passphrase").value;
      if (passphrase.length < 12) {
        say(status, "Use a passphrase of at least 12 characters.", true);
        return;
      }
      if (passphrase !== document.getElementById("e2e-repeat").value) {
        say(status, "The two passphrases differ.", true);
        return;
      }
      say(status, "Deriving the key in this browser…", false);
      var salt = crypto.getRandomValues(new Uint8Array(16));
      var check = await checkValue(await deriveKeyBits(passphrase, salt));
      var response = await fetch("/api/v1/cameras/" + form.dataset.camera + "/e2e", {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": form.dataset.csrf },
        body: JSON.stringify({ salt: hex(salt), check: check }),
      });
      if (!response.ok) {
        var problem = await response.json();
        say(status, problem.detail, true);
        return;
      }
      window.location.reload();
    });
  }

  // Opening a sealed clip, from the clip page.
  var unlock = document.getElementById("e2e-unlock");
  if (unlock) {
    unlock.addEventListener("submit", async function (event) {
      event.preventDefault();
      var status = document.getElementById("e2e-unlock-status");
      var passphrase = document.getElementById("e2e-unlock-passphrase").value;
      say(status, "Opening the clip in this browser…", false);
      var keyBits = await deriveKeyBits(passphrase, unhex(unlock.dataset.salt));
      if ((await checkValue(keyBits)) !== unlock.dataset.check) {
        say(status, "That passphrase does not open this camera's clips.", true);
        return;
      }
      try {
        var video = await fetch(unlock.dataset.video).then(function (r) { return r.arrayBuffer(); });
        var still = await fetch(unlock.dataset.snapshot).then(function (r) { return r.arrayBuffer(); });
        var player = document.getElementById("e2e-player");
        player.src = URL.createObjectURL(new Blob(await openSealed(keyBits, video), { type: "video/mp4" }));
        player.hidden = false;
        var image = document.getElementById("e2e-snapshot");
        image.src = URL.createObjectURL(new Blob(await openSealed(keyBits, still), { type: "image/jpeg" }));
        image.hidden = false;
        say(status, "Decrypted in this browser; the server never saw this clip.", false);
      } catch (err) {
        say(status, "The clip could not be opened: " + err.message, true);
      }
    });
  }
})();

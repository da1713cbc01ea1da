// Live alerts: every open Doorstep page hears about new clips over server-sent events.
(function () {
  "use strict";
  var region = document.getElementById("alerts");
  if (!region || !window.EventSource) {
    return;
  }
  function show(clip) {
    var toast = document.createElement("a");
    toast.className = "toast";
    toast.href = "/clips/" + encodeURIComponent(clip.id);
    var image = document.createElement("img");
    image.src = clip.snapshot_url;
    image.alt = "";
    image.width = 96;
    image.height = 54;
    var text = document.createElement("span");
    var what = clip.labels.indexOf("person") >= 0 ? "Person" : "Motion";
    text.textContent = what + " at " + clip.camera_name;
    toast.appendChild(image);
    toast.appendChild(text);
    region.prepend(toast);
    window.setTimeout(function () { toast.remove(); }, 30000);
  }
  var source = new EventSource("/api/v1/events");
  source.addEventListener("clip", function (message) {
    var event = JSON.parse(message.data);
    if (event.alert) {
      show(event.clip);
    }
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();

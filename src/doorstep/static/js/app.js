// The installable app: every page registers Doorstep's service worker, served from the site's
// root so that it covers every page. It keeps the offline page and shows pushes; it keeps no
// footage and no API answers.
// A form the server refused comes back with its reason (an error summary) that may be far below
// the top of the page: the page opens on it, focused, so neither eyes nor a screen reader miss it.
(function () {
  "use strict";
  function focusError() {
    var error = document.querySelector("[data-focus-on-load]");
    if (!error) {
      return;
    }
    error.focus({ preventScroll: true });
    error.scrollIntoView({ block: "center" });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusError);
  } else {
    focusError();
  }
})();

(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) {
    return;
  }
  // updateViaCache "none": the browser asks the server for a new worker on every check, never
  // its HTTP cache, so a fix reaches installed apps on their next visit.
  // The worker asks an open page for the session's CSRF token when the push service renews
  // this browser's subscription (it keeps none itself); a signed-in page has it in its
  // log-out form.
  navigator.serviceWorker.addEventListener("message", function (event) {
    if (event.data !== "doorstep:csrf" || !event.ports[0]) {
      return;
    }
    var field = document.querySelector('form[action="/logout"] input[name="csrf_token"]');
    event.ports[0].postMessage(field ? field.value : null);
  });
  navigator.serviceWorker.register("/sw.js", { scope: "/", updateViaCache: "none" }).catch(
    function (err) {
      console.warn("Doorstep works without its service worker here:", err);
    });
})();

// The installable app: every page registers Doorstep's service worker, served from the site's
// root so that it covers every page. It keeps the offline page and shows pushes; it keeps no
// footage and no API answers.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) {
    return;
  }
  // updateViaCache "none": the browser asks the server for a new worker on every check, never
  // its HTTP cache, so a fix reaches installed apps on their next visit.
  navigator.serviceWorker.register("/sw.js", { scope: "/", updateViaCache: "none" }).catch(
    function (err) {
      console.warn("Doorstep works without its service worker here:", err);
    });
})();

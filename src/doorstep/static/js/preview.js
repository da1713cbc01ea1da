// The owner's redacted previews on a request's page. A background job blurs the faces; while it
// runs, the page shows how far it got (from the preview's status URL) and swaps the video in once
// the preview is ready. The video's own request waits for the job too, so without this script
// the video still appears, only without the progress.
const POLL_MS = 1000;

function showVideo(progress) {
  if (!progress.isConnected) return;
  const video = progress.nextElementSibling;
  progress.remove();
  if (!video) return;
  video.hidden = false;
  // Its first request may have answered "not ready yet" (202): ask again now that it is.
  if (video.readyState === 0) video.load();
}

async function follow(progress) {
  const url = progress.dataset.statusUrl;
  const video = progress.nextElementSibling;
  // The video's own request may bring the preview first.
  if (video) video.addEventListener("loadedmetadata", () => showVideo(progress), { once: true });
  while (progress.isConnected) {
    let status = null;
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (response.ok) status = await response.json();
    } catch (err) {
      status = null;
    }
    if (status && status.state === "ready") {
      showVideo(progress);
      return;
    }
    if (status && status.state === "failed") {
      progress.textContent = "The redacted preview could not be made. Reload the page to try again.";
    } else if (status) {
      const percent = Math.round((status.progress || 0) * 100);
      progress.textContent = "Preparing the redacted preview… " + percent + "%";
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

for (const progress of document.querySelectorAll("[data-testid=preview-progress]")) {
  follow(progress);
}

// The live queue: every few seconds, ask the collector for the first page again (same filter)
// and swap in its counts and rows. Rows newer than the page the person opened are marked
// "new"; new P1/P2 rows stand out (console.css). Same origin only; no framework.
"use strict";
(function () {
  const body = document.getElementById("queue-body");
  if (!body || !body.dataset.live) { return; }
  const since = body.dataset.newest;
  const state = document.getElementById("live-state");
  const INTERVAL_MS = 1500;
  let busy = false;

  async function refresh() {
    if (busy || document.hidden) { return; }
    busy = true;
    try {
      const sep = body.dataset.live.includes("?") && !body.dataset.live.endsWith("?") ? "&" : "";
      const answer = await fetch(body.dataset.live + sep + "since=" + encodeURIComponent(since),
                                 {credentials: "same-origin", headers: {"Accept": "text/html"}});
      if (answer.redirected || answer.status === 401) { window.location.reload(); return; }
      if (!answer.ok) { throw new Error("HTTP " + answer.status); }
      const doc = new DOMParser().parseFromString(await answer.text(), "text/html");
      const rows = doc.getElementById("queue-body");
      const counts = doc.getElementById("counts");
      if (rows) { body.replaceChildren(...Array.from(rows.childNodes)); }
      if (counts) { document.getElementById("counts").replaceChildren(...Array.from(counts.childNodes)); }
      if (state) { state.textContent = "Updated " + new Date().toLocaleTimeString() + "."; }
    } catch (error) {
      if (state) { state.textContent = "Could not update (" + error.message + "); retrying."; }
    } finally {
      busy = false;
    }
  }
  window.setInterval(refresh, INTERVAL_MS);
})();

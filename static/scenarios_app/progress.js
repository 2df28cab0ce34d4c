// Live progress bars: polls each scenario's status endpoint (the runner API, with the portal's
// session cookie) and redraws its bar and its Run button without reloading the page. Scenarios
// in flight are polled twice a second; the others every few seconds, so that a run started
// elsewhere (the API, another tab) disables Run here too. On a scenario's own page
// ([data-reload-on-end]) the page reloads once a run ends, to show KPIs and the chart.
(function () {
  "use strict";
  const TERMINAL = ["complete", "failed", "created"];
  const BUSY = ["queued", "processing"];
  const WHY = {
    queued: "Queued: it runs once the session's earlier runs are done.",
    processing: "Running now: wait until it ends.",
  };
  const INTERVAL = 500;
  const IDLE_INTERVAL = 5000;

  function drawRunButton(id, status) {
    const busy = BUSY.includes(status);
    for (const button of document.querySelectorAll(`[data-run-for="${id}"]`)) button.disabled = busy;
    for (const why of document.querySelectorAll(`[data-run-why-for="${id}"]`)) {
      why.hidden = !busy;
      why.textContent = busy ? WHY[status] : "";
    }
  }

  function draw(element, body) {
    const bar = element.querySelector("progress");
    bar.value = body.progress;
    bar.textContent = body.progress;
    const badge = element.querySelector("[data-status-text]");
    badge.textContent = body.status;
    badge.className = "badge badge-" + body.status;
    element.querySelector("[data-percent]").textContent = Math.round(body.progress * 100) + "%";
    element.dataset.status = body.status;
    drawRunButton(element.dataset.scenarioId, body.status);
  }

  async function poll(element) {
    const before = element.dataset.status;
    try {
      const response = await fetch(element.dataset.statusUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.status === 404) return; // deleted
      if (response.ok) {
        const body = await response.json();
        draw(element, body);
        const ended = !TERMINAL.includes(before) && TERMINAL.includes(body.status);
        if (ended && element.closest("[data-reload-on-end]")) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // The portal is unreachable for a moment: try again.
    }
    const idle = TERMINAL.includes(element.dataset.status);
    setTimeout(() => poll(element), idle ? IDLE_INTERVAL : INTERVAL);
  }

  for (const element of document.querySelectorAll("[data-progress]")) {
    const idle = TERMINAL.includes(element.dataset.status);
    setTimeout(() => poll(element), idle ? IDLE_INTERVAL : 0);
  }
})();

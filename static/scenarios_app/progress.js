// Live progress bars: polls each in-flight scenario's status endpoint (the runner API, with the
// portal's session cookie) and redraws its bar without reloading the page. On a scenario's own
// page ([data-reload-on-end]) the page reloads once the run ends, to show KPIs and the chart.
(function () {
  "use strict";
  const TERMINAL = ["complete", "failed", "created"];
  const INTERVAL = 500;

  function draw(element, body) {
    const bar = element.querySelector("progress");
    bar.value = body.progress;
    bar.textContent = body.progress;
    const badge = element.querySelector("[data-status-text]");
    badge.textContent = body.status;
    badge.className = "badge badge-" + body.status;
    element.querySelector("[data-percent]").textContent = Math.round(body.progress * 100) + "%";
    element.dataset.status = body.status;
  }

  async function poll(element) {
    try {
      const response = await fetch(element.dataset.statusUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.ok) {
        const body = await response.json();
        draw(element, body);
        if (TERMINAL.includes(body.status)) {
          if (element.closest("[data-reload-on-end]")) window.location.reload();
          return;
        }
      }
    } catch (error) {
      // The portal is unreachable for a moment: try again.
    }
    setTimeout(() => poll(element), INTERVAL);
  }

  for (const element of document.querySelectorAll("[data-progress]")) {
    if (!TERMINAL.includes(element.dataset.status)) poll(element);
  }
})();

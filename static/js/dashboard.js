// Keeps the dashboard's health cards live: polls /health/ and redraws each check.
(function () {
  "use strict";
  const section = document.getElementById("health");
  if (!section) return;
  const url = section.dataset.url;

  // The portal's convention (docs/pages.md): date, 24-hour time and the zone, in UTC.
  function when(date) {
    const two = (n) => String(n).padStart(2, "0");
    return `${date.getUTCFullYear()}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())} `
      + `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} UTC`;
  }

  function draw(report) {
    section.querySelector("[data-overall]").textContent = report.status;
    for (const card of section.querySelectorAll("[data-check]")) {
      const check = report[card.dataset.check];
      if (!check) continue;
      card.classList.toggle("up", check.ok);
      card.classList.toggle("down", !check.ok);
      card.querySelector("[data-state]").textContent = check.ok ? "up" : "down";
      card.querySelector("[data-detail]").textContent = check.detail;
      const list = card.querySelector("[data-names]");
      list.replaceChildren(...(check.names || []).map((name) => {
        const item = document.createElement("li");
        item.textContent = name;
        return item;
      }));
    }
    const updated = section.querySelector("[data-updated]");
    const now = new Date();
    updated.dateTime = now.toISOString();
    updated.textContent = when(now);
  }

  async function refresh() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      draw(await response.json());
    } catch (error) {
      section.querySelector("[data-overall]").textContent = "portal unreachable";
    }
  }

  refresh();
  setInterval(refresh, 5000);
})();

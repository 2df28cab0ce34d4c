// Keeps the dashboard's health cards live: polls /health/ and redraws each check.
(function () {
  "use strict";
  const section = document.getElementById("health");
  if (!section) return;
  const url = section.dataset.url;

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
    section.querySelector("[data-updated]").textContent = new Date().toLocaleTimeString();
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

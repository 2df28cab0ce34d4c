// The site page's live state: polls the page's live endpoint (sites_app.views.site_live, with the
// portal's session cookie) every few seconds and rewrites the power flow, the assets table, the
// last report time and the online badge without reloading. The server writes every text
// (directions, kW, times: sites_app.live), so the page reads the same before and after a poll.
// When the site is offline the values are marked stale, in words as well as in colour.
(function () {
  "use strict";
  const section = document.getElementById("live");
  if (!section) return;
  const url = section.dataset.liveUrl;
  const interval = Number(section.dataset.interval) || 5000;
  const status = section.querySelector("[data-live-status]");

  function setText(element, text) {
    if (element && element.textContent !== text) element.textContent = text;
  }

  function drawAsset(asset, stale) {
    const card = section.querySelector(`[data-flow="${asset.type}"]`);
    if (card) {
      for (const field of ["arrow", "flowText", "directionText"]) {
        setText(card.querySelector(`[data-flow-field="${field}"]`), asset[field]);
      }
      card.className = card.className.replace(/\bdir-\S+/, `dir-${asset.direction}`);
      card.querySelector(".stale-tag").hidden = !stale;
    }
    for (const [name, text] of Object.entries(asset.text)) {
      for (const element of document.querySelectorAll(
        `[data-flow="${asset.type}"] [data-flow-text="${name}"], [data-asset-row="${asset.type}"] [data-flow-text="${name}"]`
      )) setText(element, text);
    }
  }

  function drawStatus(state) {
    status.replaceChildren();
    const time = document.createElement("span");
    time.dataset.liveField = "reportedAtText";
    time.textContent = state.reportedAtText;
    const mark = document.createElement("strong");
    mark.className = "stale-mark";
    if (!state.reportedAt) {
      mark.textContent = "No report yet:";
      status.append(mark, " the site's gateway has not sent telemetry.");
    } else if (state.stale) {
      mark.textContent = "Stale:";
      const after = section.dataset.offlineAfter;
      status.append(mark, ` the site is offline (no report for over ${after} s); the values below are from its last report, `, time, ".");
    } else {
      status.append("Live: updated every few seconds; last report ", time, ".");
    }
  }

  function drawBadge(online) {
    const badge = document.querySelector("[data-live-badge] .badge");
    if (!badge) return;
    badge.className = online ? "badge badge-open" : "badge badge-closed";
    setText(badge, online ? "Online" : "Offline");
  }

  function draw(state) {
    section.dataset.stale = String(state.stale);
    section.querySelector(".flow").classList.toggle("is-stale", state.stale);
    const table = document.querySelector("[data-live-table]");
    if (table) table.classList.toggle("is-stale", state.stale);
    for (const note of document.querySelectorAll(".stale-text")) note.hidden = !state.stale;
    for (const asset of state.assets) drawAsset(asset, state.stale);
    drawStatus(state);
    drawBadge(state.isOnline);
    for (const element of document.querySelectorAll('[data-live-field="reportedAtText"]')) {
      setText(element, state.reportedAtText);
    }
    section.dataset.updated = state.now;
  }

  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) draw(await response.json());
    } catch (error) {
      // The portal is unreachable for a moment: try again at the next poll.
    }
    setTimeout(poll, interval);
  }

  setTimeout(poll, interval);
})();

// The site page's history chart: measured power of each asset (solid, kW) and the BESS's state of
// charge (%, right axis) against what was scheduled over the same time (dashed steps), read from
// the page's history endpoint (sites_app.views.site_history) for the chosen range. Choosing
// another range redraws it and points the CSV link at the same range; it refreshes every minute.
(function () {
  "use strict";
  const section = document.getElementById("telemetry-history");
  const canvas = document.getElementById("history-chart");
  if (!section || !canvas || !window.Chart) return;
  const REFRESH = 60 * 1000;
  const STEP = { raw: 60, "5m": 300, "15m": 900, "1h": 3600 };
  const COLOURS = {
    grid: "#2563eb", solar: "#ca8a04", bess: "#ea580c", ev: "#7c3aed",
    heatpump: "#db2777", genset: "#475569", load: "#0f766e", soc: "#16a34a",
  };
  const NAMES = {
    grid: "Grid", solar: "Solar", bess: "BESS", ev: "EV chargers", heatpump: "Heat pump", genset: "Genset", load: "Load",
  };
  const SCHEDULED = {
    upperLimitkW: { label: "upper limit", colour: "#64748b", axis: "kw" },
    lowerLimitkW: { label: "lower limit", colour: "#94a3b8", axis: "kw" },
    activePowerkW: { label: "set point", axis: "kw" },
    optimalSocPcnt: { label: "optimal SoC", colour: COLOURS.soc, axis: "pct" },
    solarCurtailmentPcnt: { label: "curtailment", colour: COLOURS.solar, axis: "pct" },
  };
  let chart = null;
  let range = (section.querySelector("input[name=range]:checked") || {}).value || "24h";

  const two = (n) => String(n).padStart(2, "0");
  const minus = (text) => text.replace("-", "\u2212"); // the portal's minus sign
  function formatTime(ms, withDate) {
    const d = new Date(ms);
    const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
    const date = `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
    return withDate ? `${date} ${time}` : time;
  }
  // An axis tick: the time; over several days, the date alone at midnight.
  const tickText = (ms, withDate) => {
    const text = formatTime(ms, withDate);
    return withDate && text.endsWith(" 00:00") ? text.slice(0, -6) : text;
  };

  // A series with a gap (null) wherever reports are missing for more than two steps.
  function measured(points, pick, step) {
    const data = [];
    let last = null;
    for (const point of points) {
      const x = Date.parse(point.t);
      const y = pick(point.assets);
      if (y === undefined) continue;
      if (last !== null && x - last > 2 * step * 1000) data.push({ x: last + step * 1000, y: null });
      data.push({ x: x, y: y });
      last = x;
    }
    return data;
  }

  function measuredSets(body) {
    const assets = body.points.length ? Object.keys(body.points[body.points.length - 1].assets) : [];
    const step = STEP[body.resolution] || 900;
    const sets = assets.map((asset) => ({
      label: `${NAMES[asset] || asset} (kW)`,
      data: measured(body.points, (a) => (a[asset] ? a[asset].activePowerkW : undefined), step),
      borderColor: COLOURS[asset], backgroundColor: COLOURS[asset], yAxisID: "kw", borderWidth: 2,
    }));
    if (assets.includes("bess")) {
      sets.push({
        label: "BESS state of charge (%)",
        data: measured(body.points, (a) => a.bess.soc, step),
        borderColor: COLOURS.soc, backgroundColor: COLOURS.soc, yAxisID: "pct", borderWidth: 1.5,
      });
    }
    // Assets that reported no value in the range (a genset never run) draw no line.
    return sets.filter((set) => set.data.some((point) => point.y !== null && point.y !== undefined));
  }

  function scheduledSets(body) {
    const byPair = new Map();
    for (const entry of body.scheduled) {
      const key = `${entry.asset}/${entry.type}`;
      if (!byPair.has(key)) byPair.set(key, []);
      const data = byPair.get(key);
      const start = Date.parse(entry.startAt);
      const end = Date.parse(entry.endAt);
      if (data.length && data[data.length - 1].x < start) data.push({ x: data[data.length - 1].x, y: null });
      data.push({ x: start, y: entry.value }, { x: end, y: entry.value });
    }
    return Array.from(byPair, ([key, data]) => {
      const [asset, type] = key.split("/");
      const kind = SCHEDULED[type] || { label: type, axis: "kw" };
      const colour = kind.colour || COLOURS[asset];
      return {
        label: `Scheduled ${NAMES[asset] || asset} ${kind.label} (${kind.axis === "pct" ? "%" : "kW"})`,
        data: data, stepped: true, borderDash: [6, 4], borderColor: colour, backgroundColor: colour,
        yAxisID: kind.axis, borderWidth: 1.5,
      };
    });
  }

  // Ticks on round times (UTC): the smallest step that gives at most `most` of them.
  function roundTicks(from, to, most) {
    const minute = 60 * 1000;
    const steps = [15, 30, 60, 120, 180, 360, 720, 1440, 2880].map((m) => m * minute);
    const step = steps.find((s) => (to - from) / s <= most) || steps[steps.length - 1];
    const ticks = [];
    for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push({ value: t });
    return ticks;
  }

  function draw(body) {
    const from = Date.parse(body.from);
    const to = Date.parse(body.to);
    const datasets = measuredSets(body).concat(scheduledSets(body));
    const withDate = to - from > 36 * 3600 * 1000;
    if (chart) chart.destroy();
    chart = new Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false, parsing: true, spanGaps: false,
        elements: { point: { radius: 0, hitRadius: 6 } },
        interaction: { mode: "nearest", axis: "x", intersect: false },
        scales: {
          x: {
            type: "linear", min: from, max: to,
            // One tick per 70 px (110 px for dates): at most 8, at least 3.
            afterBuildTicks: (axis) => {
              const most = Math.max(3, Math.min(8, Math.floor(axis.chart.width / (withDate ? 110 : 70))));
              axis.ticks = roundTicks(from, to, most);
            },
            ticks: { callback: (v) => tickText(v, withDate), maxRotation: 0, autoSkip: true },
            title: { display: true, text: "Time (UTC)" },
          },
          kw: { type: "linear", position: "left", title: { display: true, text: "kW" }, ticks: { callback: (v) => minus(String(v)) } },
          pct: { type: "linear", position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: "%" } },
        },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 14, boxHeight: 2 } },
          tooltip: {
            callbacks: {
              title: (items) => `${formatTime(items[0].parsed.x, true)} UTC`,
              label: (item) => `${item.dataset.label}: ${minus(item.parsed.y.toFixed(1))}`,
            },
          },
        },
      },
    });
    canvas.dataset.ready = String(datasets.length);
    canvas.dataset.points = String(body.points.length);
    canvas.dataset.range = body.range;
    section.querySelector("[data-history-empty]").hidden = body.points.length > 0;
  }

  function showRange(choice) {
    const label = section.querySelector(`input[value="${choice}"]`).parentElement.textContent.trim();
    for (const element of section.querySelectorAll("[data-range-label]")) element.textContent = label;
    section.querySelector("[data-csv-link]").href = `${section.dataset.csvUrl}?range=${encodeURIComponent(choice)}`;
    canvas.setAttribute("aria-label", `Measured power and state of charge against the schedule, last ${label}`);
  }

  async function load() {
    try {
      const response = await fetch(`${section.dataset.historyUrl}?range=${encodeURIComponent(range)}`, {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      });
      if (response.ok) {
        const body = await response.json();
        if (body.range === range) draw(body);
      }
    } catch (error) {
      // The portal is unreachable for a moment: the next refresh tries again.
    }
  }

  for (const input of section.querySelectorAll("input[name=range]")) {
    input.addEventListener("change", () => {
      range = input.value;
      showRange(range);
      const address = new URL(window.location.href);
      address.searchParams.set("range", range);
      window.history.replaceState(null, "", address);
      load();
    });
  }
  load();
  setInterval(load, REFRESH);
})();

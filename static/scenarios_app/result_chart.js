// The scenario's result over time: load, PV, battery power and grid import (kW, left axis) and
// the battery's state of charge (%, right axis), with static/js/charts.js.
(function () {
  "use strict";
  const drawing = window.heatChart("result-chart", "chart-data");
  if (!drawing) return;
  const canvas = drawing.canvas;
  const data = drawing.data;
  // The zone of the dataset's timestamps, stated (docs/pages.md): they are shown as written.
  function timeAxisTitle(first) {
    const zone = first.match(/(Z|[+-]\d\d:?\d\d)$/);
    if (!zone) return "Time (the dataset's local time, no zone given)";
    return ["Z", "+00:00", "+0000", "-00:00"].includes(zone[1]) ? "Time (UTC)" : `Time (UTC${zone[1]})`;
  }
  const labels = data.timestamps.map((value) => value.slice(5, 16).replace("T", " "));
  const s = data.series;
  const line = (label, values, color, extra) =>
    Object.assign({ label, data: values, borderColor: color, backgroundColor: color, borderWidth: 1.5,
                    pointRadius: 0, tension: 0.2, yAxisID: "power" }, extra || {});
  const chart = new window.Chart(canvas, {
    type: "line",
    data: {
      labels,
      datasets: [
        line("Load (kW)", s.load_kw, "#1f77b4"),
        line("PV (kW)", s.pv_kw, "#f2a900"),
        line("Battery power (kW, + discharge)", s.battery_kw, "#2ca02c"),
        line("Grid import (kW)", s.grid_import_kw, "#d62728"),
        line("State of charge (%)", s.soc.map((value) => value * 100), "#9467bd",
             { yAxisID: "soc", borderDash: [4, 3] }),
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { ticks: { maxTicksLimit: 14 }, title: { display: true, text: timeAxisTitle(data.timestamps[0] || "") } },
        power: { type: "linear", position: "left", title: { display: true, text: "kW" } },
        soc: { type: "linear", position: "right", min: 0, max: 100, grid: { drawOnChartArea: false },
               title: { display: true, text: "SoC %" } },
      },
    },
  });
  canvas.dataset.ready = String(chart.data.datasets.length);
})();

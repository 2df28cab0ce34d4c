// The site page's schedule timeline: one row per asset/type, one bar per entry, drawn with
// static/js/charts.js from the page's <script id="schedule-data">.
(function () {
  "use strict";
  const drawing = window.heatChart("schedule-chart", "schedule-data");
  if (!drawing) return;
  const canvas = drawing.canvas;
  const data = drawing.data;
  const now = Date.parse(data.now);
  const colours = {
    upperLimitkW: "#2563eb",
    lowerLimitkW: "#7c3aed",
    activePowerkW: "#ea580c",
    optimalSocPcnt: "#16a34a",
    solarCurtailmentPcnt: "#ca8a04",
  };
  const units = { optimalSocPcnt: "%", solarCurtailmentPcnt: "%" };
  const rowLabel = (s) => `${s.asset} · ${s.type}`;
  const labels = data.schedules.map(rowLabel);

  const datasets = data.schedules.map((s) => ({
    label: rowLabel(s),
    data: s.entries.map((e) => ({
      x: [Date.parse(e.startAt), Date.parse(e.endAt)],
      y: rowLabel(s),
      value: e.value,
      unit: units[s.type] || " kW",
    })),
    backgroundColor: colours[s.type] + "cc",
    borderColor: colours[s.type],
    borderWidth: 1,
    borderSkipped: false,
    barPercentage: 0.7,
    categoryPercentage: 1,
  }));

  let start = Infinity;
  let end = -Infinity;
  for (const s of data.schedules) {
    for (const e of s.entries) {
      start = Math.min(start, Date.parse(e.startAt));
      end = Math.max(end, Date.parse(e.endAt));
    }
  }
  start = Math.min(start, now);
  // Ticks on round times: the smallest step that gives at most ten of them.
  const minute = 60 * 1000;
  const steps = [15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080].map((m) => m * minute);
  const step = steps.find((s) => (end - start) / s <= 10) || steps[steps.length - 1];
  const axisMin = Math.floor(start / step) * step;
  const axisMax = Math.ceil(end / step) * step;

  const two = (n) => String(n).padStart(2, "0");
  const signed = (value) => String(value).replace("-", "\u2212"); // the portal's minus sign
  const formatTime = (ms, withDate) => {
    const d = new Date(ms);
    const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
    return withDate ? `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${time}` : time;
  };
  const spansDays = end - start > 36 * 3600 * 1000;

  // Values written on the bars, and a "now" line, so the chart reads without hovering.
  const annotate = {
    id: "annotate",
    afterDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      ctx.save();
      ctx.font = "12px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      chart.data.datasets.forEach((dataset, i) => {
        chart.getDatasetMeta(i).data.forEach((bar, j) => {
          const item = dataset.data[j];
          const text = `${signed(item.value)}${item.unit}`;
          const width = Math.abs(bar.x - bar.base);
          if (width > ctx.measureText(text).width + 6) {
            ctx.fillStyle = "#fff";
            ctx.fillText(text, (bar.x + bar.base) / 2, bar.y);
          }
        });
      });
      const x = scales.x.getPixelForValue(now);
      if (x >= chartArea.left && x <= chartArea.right) {
        ctx.strokeStyle = "#b91c1c";
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.moveTo(x, chartArea.top);
        ctx.lineTo(x, chartArea.bottom);
        ctx.stroke();
      }
      ctx.restore();
    },
  };

  new Chart(canvas, {
    type: "bar",
    data: { labels, datasets },
    options: {
      indexAxis: "y",
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      grouped: false,
      scales: {
        x: {
          type: "linear",
          min: axisMin,
          max: axisMax,
          ticks: { stepSize: step, callback: (v) => formatTime(v, spansDays), maxRotation: 0, autoSkip: true },
          title: { display: true, text: "Time (UTC)" },
        },
        y: { stacked: true },
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (items) => items[0].dataset.label,
            label: (item) => {
              const raw = item.raw;
              return `${formatTime(raw.x[0], true)} → ${formatTime(raw.x[1], true)} UTC: ${signed(raw.value)}${raw.unit}`;
            },
          },
        },
      },
    },
    plugins: [annotate],
  });
})();

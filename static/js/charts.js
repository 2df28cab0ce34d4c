// What every chart of the portal starts from: Chart.js (vendored in static/vendor/, loaded just
// before this file by templates/_chart_scripts.html), the canvas to draw on, and the data the page
// wrote into a <script type="application/json"> (Django's json_script), never another request.
window.heatChart = function (canvasId, dataId) {
  "use strict";
  const canvas = document.getElementById(canvasId);
  const source = document.getElementById(dataId);
  if (!canvas || !source || !window.Chart) return null;
  return { canvas: canvas, data: JSON.parse(source.textContent) };
};

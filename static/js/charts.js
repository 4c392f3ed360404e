/* Draws every <canvas data-chart="ID"> from the JSON in <script id="ID">: {type, label, labels,
   values}. Chart.js comes from static/vendor/chart.js (no CDN). The drawn charts are kept in
   window.portalCharts so a test (or a person in the console) can find them. */
(function () {
  "use strict";

  var palette = ["#2a64c5", "#1f7a3a", "#9a6700", "#b3261e", "#5f6b7a"];

  function formatNumber(value) {
    return typeof value === "number" ? value.toLocaleString("ru-RU") : value;
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") { return null; }
    var spec = JSON.parse(source.textContent);
    var isBar = spec.type === "bar";
    return new Chart(canvas, {
      type: spec.type || "line",
      data: {
        labels: spec.labels,
        datasets: [{
          label: spec.label,
          data: spec.values,
          backgroundColor: isBar ? palette[0] : "rgba(42, 100, 197, 0.15)",
          borderColor: palette[0],
          fill: !isBar,
          pointRadius: isBar ? 0 : 2,
          tension: 0.2
        }]
      },
      options: {
        // Axis numbers as a Russian reader writes them (1 234 567,8), whatever the browser.
        locale: "ru-RU",
        indexAxis: isBar ? "y" : "x",
        animation: false,
        responsive: true,
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (ctx) {
            return spec.label + ": " + formatNumber(isBar ? ctx.parsed.x : ctx.parsed.y);
          } } }
        },
        scales: isBar ? { x: { beginAtZero: true } } : { y: { beginAtZero: false } }
      }
    });
  }

  function drawAll() {
    window.portalCharts = [];
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var chart = draw(canvas);
      if (chart) { window.portalCharts.push(chart); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();

/* Draws every <canvas data-chart="ID"> from the JSON in <script id="ID">: {type, label, labels,
   values}. Chart.js comes from static/vendor/chart.js (no CDN). The drawn charts are kept in
   window.portalCharts so a test (or a person in the console) can find them. */
(function () {
  "use strict";

  var palette = ["#2a64c5", "#1f7a3a", "#9a6700", "#b3261e", "#5f6b7a"];

  function formatNumber(value) {
    return typeof value === "number" ? value.toLocaleString("ru-RU") : value;
  }

  // A bar's name cut to what fits beside it, keeping its start and its end, which tell
  // "Дом культуры с. Журавлиха" from "Дом культуры с. Покровка" (the tooltip and the table give
  // it whole).
  function shortLabel(value) {
    var label = String(this.getLabelForValue(value));
    var fits = this.chart.width < 560 ? 18 : 40;
    if (label.length <= fits) { return label; }
    var head = Math.floor(fits / 3);
    return label.slice(0, head) + "…" + label.slice(label.length - (fits - head - 1));
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") { return null; }
    var spec = JSON.parse(source.textContent);
    var isBar = spec.type === "bar";
    // The chart fills its box (.chart-box): a line keeps the box's CSS height, bars get a row
    // each, so a phone shows the same readable bars as a desktop, only narrower.
    if (isBar && canvas.parentElement.classList.contains("chart-box")) {
      canvas.parentElement.style.height = (Math.max(spec.labels.length, 3) * 22 + 50) + "px";
    }
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
        maintainAspectRatio: false,
        locale: "ru-RU",  // axis numbers as 4 500, whatever the browser's own language
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (ctx) {
            return spec.label + ": " + formatNumber(isBar ? ctx.parsed.x : ctx.parsed.y);
          } } }
        },
        scales: isBar
          ? { x: { beginAtZero: true }, y: { ticks: { callback: shortLabel } } }
          : { y: { beginAtZero: false } }
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

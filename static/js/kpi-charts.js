/* KPI charts, drawn with Chart.js (served from /static/vendor/chart.js/). Each chart reads its
   numbers from a JSON script element the page renders; the same numbers are in a table beside
   it, so the chart is an illustration, never the only way to read them. */
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") { return; }

  var css = getComputedStyle(document.documentElement);
  var colour = function (name, fallback) { return (css.getPropertyValue(name) || fallback).trim(); };
  var BRAND = colour("--brand", "#0b5cad");
  var GREEN = colour("--ok", "#1f7a3d");
  var AMBER = colour("--warn", "#8a5a00");
  var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function threshold(label, data, colour) {
    return {
      label: label, data: data, borderColor: colour, borderDash: [6, 4], borderWidth: 1.5,
      // A dash at every period, so a target set for one period alone still shows.
      pointStyle: "line", pointRadius: 8, pointBorderWidth: 2,
      stepped: "middle", fill: false, spanGaps: false
    };
  }

  document.querySelectorAll("canvas[data-kpi-spark]").forEach(function (canvas) {
    var data = read(canvas.getAttribute("data-kpi-spark"));
    if (!data) { return; }
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { data: data.values, borderColor: BRAND, borderWidth: 2, pointRadius: 0, tension: 0.3, spanGaps: true },
          Object.assign(threshold("", data.green, GREEN), { pointRadius: 0 })
        ]
      },
      options: {
        animation: reduced ? false : undefined,
        responsive: true, maintainAspectRatio: false,
        plugins: { legend: { display: false }, tooltip: { enabled: false } },
        scales: { x: { display: false }, y: { display: false } },
        events: []
      }
    });
  });

  document.querySelectorAll("canvas[data-kpi-chart]").forEach(function (canvas) {
    var data = read(canvas.getAttribute("data-kpi-chart"));
    if (!data) { return; }
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          {
            label: data.names.actual, data: data.values, borderColor: BRAND,
            backgroundColor: BRAND, borderWidth: 2.5, tension: 0.2, spanGaps: true,
            pointRadius: data.partial.map(function (p) { return p ? 5 : 3; }),
            pointStyle: data.partial.map(function (p) { return p ? "rectRot" : "circle"; })
          },
          threshold(data.names.green, data.green, GREEN),
          threshold(data.names.amber, data.amber, AMBER)
        ]
      },
      options: {
        animation: reduced ? false : undefined,
        responsive: true, maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } },
        scales: { y: { beginAtZero: true, title: { display: !!data.unit, text: data.unit } } }
      }
    });
  });
})();

/* The KPI trends page's charts (web/reports/trends.html), drawn by Chart.js from #kpi-data (the table below
   has the same figures). */
(function () {
  "use strict";
  if (!window.Chart) return;
  var d = JSON.parse(document.getElementById("kpi-data").textContent);
  var n = function (xs) { return xs.map(function (v) { return v === null ? null : Number(v); }); };
  var line = function (label, data, colour) { return {label: label, data: n(data), borderColor: colour, backgroundColor: colour, tension: 0.2, spanGaps: true}; };
  var opts = {responsive: true, maintainAspectRatio: false, interaction: {mode: "index", intersect: false}, scales: {y: {beginAtZero: true}}};
  new Chart(document.getElementById("dso-chart"), {type: "line", options: opts, data: {labels: d.labels, datasets: [
    line("DSO", d.dso_simple, "#2563eb"), line("DSO count-back", d.dso_count_back, "#7c3aed"),
    line("Best possible DSO", d.best_possible_dso, "#16a34a"), line("ADD", d.add, "#dc2626")]}});
  new Chart(document.getElementById("cei-chart"), {type: "line", options: opts, data: {labels: d.labels, datasets: [
    line("CEI %", d.cei, "#0891b2"), line("Overdue %", d.overdue_pct, "#dc2626")]}});
})();

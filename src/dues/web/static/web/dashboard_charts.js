/* The dashboard's two charts, drawn by Chart.js from the figures the page carries in #chart-data (the tables
   below them have the same figures); the number format comes from the ageing canvas's data-locale. */
(function () {
  "use strict";
  if (!window.Chart) return;
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  var ageing = document.getElementById("ageing-chart");
  var css = getComputedStyle(document.documentElement);
  var tone = function (n, fallback) { return css.getPropertyValue("--tone-" + n).trim() || fallback; };
  var number = function (v) { return Number(v); };  // for drawing only; the figures shown are the server's
  var fmt = new Intl.NumberFormat((ageing.getAttribute("data-locale") || "en_IN").replace("_", "-"), {maximumFractionDigits: 0});
  var money = function (v) { return fmt.format(v); };
  var ticks = {callback: function (v) { return money(v); }};
  var tip = {callbacks: {label: function (c) { return c.dataset.label + ": " + money(c.parsed.y); }}};
  new Chart(ageing, {
    type: "bar",
    data: {labels: data.ageing.labels, datasets: [{label: "Amount", data: data.ageing.amounts.map(number),
      backgroundColor: data.ageing.overdue.map(function (o, i) { return tone(i, o ? "#d9534f" : "#3b82f6"); })}]},
    options: {responsive: true, maintainAspectRatio: false, plugins: {legend: {display: false}, tooltip: tip},
              scales: {y: {beginAtZero: true, ticks: ticks}}}
  });
  new Chart(document.getElementById("trend-chart"), {
    type: "line",
    data: {labels: data.trend.labels, datasets: [
      {label: "Outstanding", data: data.trend.outstanding.map(number), borderColor: "#2563eb", backgroundColor: "#2563eb", tension: 0.2},
      {label: "Overdue", data: data.trend.overdue.map(number), borderColor: "#dc2626", backgroundColor: "#dc2626", tension: 0.2}]},
    options: {responsive: true, maintainAspectRatio: false, interaction: {mode: "index", intersect: false},
              plugins: {tooltip: tip}, scales: {y: {beginAtZero: true, ticks: ticks}}}
  });
})();

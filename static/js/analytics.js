// Draws the dashboard's charts from the JSON the page embeds (#analytics-data), with Chart.js
// served from static/vendor (no CDN).
(function () {
  "use strict";
  var source = document.getElementById("analytics-data");
  if (!source || typeof Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  var zh = (document.documentElement.lang || "").indexOf("zh") === 0;
  var color = "#2f6fdb";
  var palette = ["#2f6fdb", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#f08c00", "#1098ad", "#5c940d", "#862e9c", "#495057"];
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  var emptyText = (document.querySelector("section.charts") || {}).dataset;
  emptyText = (emptyText && emptyText.empty) || "No data";

  function chart(id, type, labels, values, extra) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    if (!values.some(function (v) { return Number(v) !== 0; })) {  // nothing to draw: say so, not a blank card
      var note = document.createElement("p");
      note.className = "chart-empty muted";
      note.id = id + "-empty";
      note.textContent = emptyText;
      canvas.replaceWith(note);
      return;
    }
    var config = {
      type: type,
      data: { labels: labels, datasets: [{ data: values.map(Number), backgroundColor: type === "doughnut" ? palette : color, borderColor: color }] },
      options: Object.assign({ plugins: { legend: { display: type === "doughnut" } } }, extra || {}),
    };
    canvas.parentNode.style.height = "260px";
    new Chart(canvas, config);
  }
  function pick(rows, key) { return rows.map(function (r) { return r[key]; }); }

  chart("chart-day", "line", pick(data.volume_by_day, "date"), pick(data.volume_by_day, "tickets"));
  chart("chart-week", "bar", pick(data.volume_by_week, "week"), pick(data.volume_by_week, "tickets"));
  chart("chart-type", "bar", data.by_dispute_type.map(function (r) { return zh ? r.name_zh : r.name_en; }), pick(data.by_dispute_type, "tickets"), { indexAxis: "y" });
  chart("chart-sku", "bar", pick(data.by_sku, "sku"), pick(data.by_sku, "tickets"));
  chart("chart-hour", "bar", pick(data.by_hour, "hour"), pick(data.by_hour, "tickets"));
  var weekdays = zh ? ["一", "二", "三", "四", "五", "六", "日"] : ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  chart("chart-weekday", "bar", data.by_weekday.map(function (r) { return weekdays[r.weekday - 1]; }), pick(data.by_weekday, "tickets"));
  chart("chart-funnel", "bar", pick(data.funnel, "label"), pick(data.funnel, "tickets"));
  chart("chart-comp-type", "doughnut", pick(data.compensation_by_type, "label"), pick(data.compensation_by_type, "amount"));
  chart("chart-comp-party", "bar", pick(data.compensation_by_party, "label"), pick(data.compensation_by_party, "amount"));
})();

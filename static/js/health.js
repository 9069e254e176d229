// Program health charts: decoration beside tables that hold the same numbers.
//
// The data comes from <script type="application/json" id="health-charts"> (Django's
// json_script). Each <div class="health-chart" data-chart="KEY" hidden> is shown and drawn
// only when Chart.js has loaded, so without JavaScript the page is its tables. The canvas
// is aria-hidden: screen readers read the table. Colour is never the only cue: every bar
// carries its value as a label, and a second series is hatched as well as coloured.
(function () {
  "use strict";

  var COLOURS = ["#1d4ed8", "#b45309"];
  var INK = "#1f2933";
  var GRID = "#d9e2ec";

  function hatch(colour) {
    var size = 8;
    var tile = document.createElement("canvas");
    tile.width = size;
    tile.height = size;
    var ctx = tile.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, size, size);
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    ctx.moveTo(0, size);
    ctx.lineTo(size, 0);
    ctx.moveTo(-size / 2, size / 2);
    ctx.lineTo(size / 2, -size / 2);
    ctx.moveTo(size / 2, size * 1.5);
    ctx.lineTo(size * 1.5, size / 2);
    ctx.stroke();
    return ctx.createPattern(tile, "repeat");
  }

  // Writes each bar's value at its end.
  var valueLabels = {
    id: "healthValueLabels",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      var horizontal = chart.options.indexAxis === "y";
      ctx.save();
      ctx.fillStyle = INK;
      ctx.font = "600 12px system-ui, sans-serif";
      chart.data.datasets.forEach(function (dataset, i) {
        chart.getDatasetMeta(i).data.forEach(function (bar, j) {
          var value = dataset.data[j];
          if (horizontal) {
            ctx.textAlign = "left";
            ctx.textBaseline = "middle";
            ctx.fillText(String(value), bar.x + 4, bar.y);
          } else {
            ctx.textAlign = "center";
            ctx.textBaseline = "bottom";
            ctx.fillText(String(value), bar.x, bar.y - 2);
          }
        });
      });
      ctx.restore();
    },
  };

  function draw(holder, spec) {
    var series = spec.series.map(function (s, i) {
      var colour = COLOURS[i % COLOURS.length];
      return {
        label: s.label,
        data: s.data,
        backgroundColor: i === 0 ? colour : hatch(colour),
        borderColor: colour,
        borderWidth: i === 0 ? 0 : 2,
      };
    });
    var max = Math.max.apply(null, [1].concat.apply([], spec.series.map(function (s) { return s.data; })));
    var valueAxis = {
      beginAtZero: true,
      suggestedMax: Math.ceil(max * 1.15),
      ticks: { precision: 0, color: INK },
      grid: { color: GRID },
    };
    var categoryAxis = { ticks: { color: INK, autoSkip: false }, grid: { display: false } };
    holder.hidden = false;
    new window.Chart(holder.querySelector("canvas"), {
      type: "bar",
      data: { labels: spec.labels, datasets: series },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        maintainAspectRatio: false,
        animation: false,
        layout: { padding: { top: 16, right: spec.horizontal ? 32 : 8 } },
        scales: spec.horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
        plugins: {
          legend: { display: series.length > 1, labels: { color: INK } },
          tooltip: { enabled: true },
        },
      },
      plugins: [valueLabels],
    });
  }

  function init() {
    var source = document.getElementById("health-charts");
    if (!source || !window.Chart) {
      return;
    }
    var charts = JSON.parse(source.textContent);
    document.querySelectorAll(".health-chart[data-chart]").forEach(function (holder) {
      var spec = charts[holder.dataset.chart];
      if (spec) {
        draw(holder, spec);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

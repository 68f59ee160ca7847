/* Manager dashboards: draws each chart from the JSON the page embeds next to its canvas.
 *
 * Readable without colour: bars carry fill patterns and their values, lines differ by dash and
 * point shape, and every chart has a table view in the page. Clicking a bar or point opens
 * the matching queue in the desk. Charts are redrawn after htmx swaps the dashboard in.
 */
(function () {
  "use strict";

  var COLOURS = ["#1d4e89", "#b45309", "#047857", "#7c3aed", "#be123c"];
  var DASHES = [[], [8, 5], [2, 4], [12, 4, 2, 4]];
  var POINTS = ["circle", "triangle", "rectRot", "rect"];
  var PATTERNS = ["solid", "diagonal", "dots", "cross", "horizontal"];
  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function pattern(colour, kind) {
    if (kind === "solid") return colour;
    var size = 10;
    var tile = document.createElement("canvas");
    tile.width = tile.height = size;
    var ctx = tile.getContext("2d");
    ctx.fillStyle = colour;
    ctx.globalAlpha = 0.35;
    ctx.fillRect(0, 0, size, size);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    if (kind === "diagonal") {
      ctx.moveTo(0, size); ctx.lineTo(size, 0);
      ctx.moveTo(-2, 2); ctx.lineTo(2, -2);
      ctx.moveTo(size - 2, size + 2); ctx.lineTo(size + 2, size - 2);
      ctx.stroke();
    } else if (kind === "dots") {
      ctx.arc(size / 2, size / 2, 2, 0, 2 * Math.PI);
      ctx.fill();
    } else if (kind === "cross") {
      ctx.moveTo(0, 0); ctx.lineTo(size, size);
      ctx.moveTo(size, 0); ctx.lineTo(0, size);
      ctx.stroke();
    } else {
      ctx.moveTo(0, size / 2); ctx.lineTo(size, size / 2);
      ctx.stroke();
    }
    return ctx.createPattern(tile, "repeat");
  }

  function formatValue(value, spec) {
    if (value === null || value === undefined) return "";
    var text = Number.isInteger(value) ? String(value) : value.toFixed(1);
    return spec.percent ? text + "%" : text;
  }

  function label(ctx, text, x, y) {
    ctx.strokeText(text, x, y);
    ctx.fillText(text, x, y);
  }

  /* Writes each bar's value on or beside it, so no figure depends on telling colours apart. */
  var valueLabels = {
    id: "valueLabels",
    afterDatasetsDraw: function (chart, args, options) {
      var spec = options.spec;
      if (!spec || spec.kind !== "bar") return;
      var ctx = chart.ctx;
      ctx.save();
      ctx.font = "bold 12px system-ui, sans-serif";
      ctx.lineJoin = "round";
      ctx.lineWidth = 3;
      ctx.strokeStyle = "#fff"; // a halo keeps the figure readable on any fill
      ctx.fillStyle = "#1a1a1a";
      chart.data.datasets.forEach(function (dataset, i) {
        var meta = chart.getDatasetMeta(i);
        if (meta.hidden) return;
        meta.data.forEach(function (bar, j) {
          var value = dataset.data[j];
          // No figure, or a zero count, needs no label; a 0% share does.
          if (value === null || value === undefined || (value === 0 && !spec.percent)) return;
          var text = formatValue(value, spec);
          if (spec.stacked) {
            var props = bar.getProps(["x", "y", "base"], true);
            if (Math.abs(props.base - props.y) < 14) return;
            ctx.textAlign = "center";
            ctx.textBaseline = "middle";
            label(ctx, text, props.x, (props.y + props.base) / 2);
          } else if (spec.horizontal) {
            ctx.textAlign = "left";
            ctx.textBaseline = "middle";
            label(ctx, text, bar.x + 4, bar.y);
          } else {
            ctx.textAlign = "center";
            ctx.textBaseline = "bottom";
            label(ctx, text, bar.x, bar.y - 2);
          }
        });
      });
      ctx.restore();
    },
  };

  function datasets(spec) {
    return spec.datasets.map(function (d, i) {
      var colour = COLOURS[i % COLOURS.length];
      var out = { label: d.label, data: d.data, borderColor: colour, borderWidth: 2 };
      if (spec.kind === "line") {
        out.backgroundColor = colour;
        out.borderDash = DASHES[i % DASHES.length];
        out.pointStyle = POINTS[i % POINTS.length];
        out.pointRadius = 4;
        out.tension = 0;
      } else {
        out.backgroundColor = pattern(colour, PATTERNS[i % PATTERNS.length]);
        out.borderWidth = 1;
      }
      return out;
    });
  }

  function options(spec) {
    var valueAxis = spec.horizontal ? "x" : "y";
    var scales = { x: { stacked: spec.stacked }, y: { stacked: spec.stacked } };
    var axis = scales[valueAxis];
    axis.beginAtZero = true;
    axis.title = { display: !!spec.unit, text: spec.unit };
    if (spec.percent) {
      axis.max = 100;
    } else {
      axis.grace = "10%";
      if (spec.unit === "incidents") axis.ticks = { precision: 0 }; // whole incidents only
    }
    return {
      layout: { padding: { top: 16, right: spec.horizontal ? 24 : 0 } },
      indexAxis: spec.horizontal ? "y" : "x",
      responsive: true,
      maintainAspectRatio: false,
      animation: reduceMotion ? false : { duration: 300 },
      scales: scales,
      plugins: {
        legend: { display: spec.datasets.length > 1, labels: { usePointStyle: spec.kind === "line" } },
        valueLabels: { spec: spec },
        tooltip: {
          callbacks: {
            label: function (item) {
              return item.dataset.label + ": " + formatValue(item.raw, spec);
            },
          },
        },
      },
      onHover: function (event, elements) {
        event.native.target.style.cursor = elements.length ? "pointer" : "default";
      },
      onClick: function (event, elements) {
        if (!elements.length) return;
        var hit = elements[0];
        var href = spec.datasets[hit.datasetIndex].links[hit.index];
        if (href) window.location.assign(href);
      },
    };
  }

  function draw(canvas) {
    var source = document.getElementById("chart-data-" + canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") return;
    var spec = JSON.parse(source.textContent);
    var existing = Chart.getChart(canvas);
    if (existing) existing.destroy();
    new Chart(canvas, {
      type: spec.kind,
      data: { labels: spec.labels, datasets: datasets(spec) },
      options: options(spec),
      plugins: [valueLabels],
    });
    canvas.dataset.drawn = "true";
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  function destroyIn(root) {
    if (typeof Chart === "undefined" || !root) return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var chart = Chart.getChart(canvas);
      if (chart) chart.destroy();
    });
  }

  // Choosing a group, category or priority redraws at once (dates wait for Show). The form's
  // hx-trigger listens for this event: the CSP allows no hx-trigger="change[...]" filter code.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!(select instanceof HTMLSelectElement) || !window.htmx) return;
    var form = select.closest("form.dashboard-filters");
    if (form) window.htmx.trigger(form, "filters-changed");
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    destroyIn(event.detail.target);
  });
  if (window.htmx) {
    window.htmx.onLoad(drawAll);
  } else {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  }
})();

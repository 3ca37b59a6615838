// Dashboard: the regency map (Leaflet, no tile server needed), the trend chart (Chart.js), sortable tables.
(function () {
  "use strict";
  const lang = document.documentElement.lang || "id";
  const pct = (value) => new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(value) + " %";
  const read = (id) => {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  };
  // Red (far behind) through yellow to green (all desa adopted).
  const colour = (value) =>
    value >= 99 ? "#1a7f37" : value >= 95 ? "#4caf50" : value >= 90 ? "#c0ca33" : value >= 75 ? "#fbc02d" : value >= 50 ? "#f57c00" : "#c62828";

  function drawMap() {
    const element = document.getElementById("regency-map");
    const data = read("map-data");
    if (!element || !data || !window.L || !data.features.length) return;
    const map = L.map(element, { attributionControl: false, zoomSnap: 0.25 });
    const layer = L.geoJSON(data, {
      style: (feature) => ({
        fillColor: colour(feature.properties.shade_pct),
        fillOpacity: 0.85,
        color: "#37474f",
        weight: 1,
      }),
      onEachFeature: (feature, shape) => {
        const p = feature.properties;
        const text =
          "<strong>" + p.name + "</strong><br>" +
          (p.adopted_desa_pct === null ? "" : element.dataset.labelDesa + ": " + pct(p.adopted_desa_pct) + "<br>") +
          element.dataset.labelUnits + ": " + p.adopted_units + " / " + p.units + "<br>" +
          element.dataset.labelBlocked + ": " + p.blocked;
        shape.bindTooltip(text, { sticky: true });
        shape.on("click", () => { window.location.href = element.dataset.regencyUrl.replace("CODE", p.code); });
      },
    }).addTo(map);
    map.fitBounds(layer.getBounds());
    const legend = L.control({ position: "bottomright" });
    legend.onAdd = () => {
      const div = L.DomUtil.create("div", "map-legend");
      div.innerHTML = [[99, "≥ 99"], [95, "95–99"], [90, "90–95"], [75, "75–90"], [50, "50–75"], [0, "< 50"]]
        .map(([value, label]) => '<div><span style="background:' + colour(value) + '"></span>' + label + " %</div>")
        .join("");
      return div;
    };
    legend.addTo(map);
  }

  // The trend's x axis is time (chartjs-adapter-date-fns): points sit at their dates, so a gap between
  // snapshots shows as a gap. Dates are written in the page's language by Intl, not by date-fns.
  function drawTrend() {
    const canvas = document.getElementById("trend-chart");
    const series = read("trend-data");
    if (!canvas || !series || !window.Chart) return;
    const palette = ["#1b5e20", "#1565c0", "#6a1b9a"];
    const month = new Intl.DateTimeFormat(lang, { month: "short", year: "numeric" });
    const day = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", year: "numeric" });
    const days = [];
    const datasets = [];
    Object.values(series).forEach((s, index) => {
      s.points.forEach(([date]) => days.push(date));
      datasets.push({
        label: s.name,
        data: s.points.map(([date, value]) => ({ x: date, y: value })),
        borderColor: palette[index % palette.length],
        tension: 0.2,
      });
      if (s.forecast && s.forecast.date && s.points.length) {
        const last = s.points[s.points.length - 1];
        days.push(s.forecast.date);
        datasets.push({
          label: s.name + " (" + canvas.dataset.labelForecast + ")",
          data: [{ x: last[0], y: last[1] }, { x: s.forecast.date, y: 100 }],
          borderColor: palette[index % palette.length],
          borderDash: [6, 4],
          pointRadius: 0,
        });
      }
    });
    days.sort();
    if (days.length) {
      const target = Number(canvas.dataset.target);
      datasets.push({
        label: canvas.dataset.labelTarget,
        data: [{ x: days[0], y: target }, { x: days[days.length - 1], y: target }],
        borderColor: "#c62828",
        borderDash: [2, 2],
        pointRadius: 0,
      });
    }
    new Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        animation: false,
        scales: {
          x: { type: "time", time: { minUnit: "month" }, ticks: { callback: (value) => month.format(new Date(value)) } },
          y: { min: 0, max: 100 },
        },
        plugins: {
          legend: { position: "bottom" },
          tooltip: { callbacks: { title: (items) => (items.length ? day.format(new Date(items[0].parsed.x)) : "") } },
        },
      },
    });
  }

  function sortable() {
    document.querySelectorAll("table.sortable").forEach((table) => {
      table.querySelectorAll("th[data-sort]").forEach((th, column) => {
        th.style.cursor = "pointer";
        th.addEventListener("click", () => {
          const numeric = th.dataset.sort === "num";
          const ascending = th.dataset.order !== "asc";
          th.dataset.order = ascending ? "asc" : "desc";
          const body = table.tBodies[0];
          const rows = Array.from(body.rows).filter((row) => row.cells.length > 1);
          rows.sort((a, b) => {
            const x = a.cells[column].dataset.value || a.cells[column].textContent;
            const y = b.cells[column].dataset.value || b.cells[column].textContent;
            const order = numeric ? Number(x) - Number(y) : x.localeCompare(y, lang);
            return ascending ? order : -order;
          });
          rows.forEach((row) => body.appendChild(row));
        });
      });
    });
  }

  // The headline's awaiting count is the length of the awaiting list under it: a report verified or
  // rejected in place (htmx swaps its row for the outcome, green) leaves the list, so it leaves the count.
  function followDecisions() {
    const count = document.getElementById("headline-awaiting");
    const list = document.getElementById("awaiting-reports");
    if (!count || !list) return;
    const total = Number(count.dataset.total);
    const number = new Intl.NumberFormat(lang);
    document.body.addEventListener("htmx:afterSettle", () => {
      count.textContent = number.format(total - list.querySelectorAll("tbody tr.table-success").length);
    });
  }

  document.addEventListener("DOMContentLoaded", () => { drawMap(); drawTrend(); sortable(); followDecisions(); });
})();

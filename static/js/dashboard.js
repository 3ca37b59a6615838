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

  function drawTrend() {
    const canvas = document.getElementById("trend-chart");
    const series = read("trend-data");
    if (!canvas || !series || !window.Chart) return;
    const palette = ["#1b5e20", "#1565c0", "#6a1b9a"];
    const labels = new Set();
    Object.values(series).forEach((s) => {
      s.points.forEach(([day]) => labels.add(day));
      if (s.forecast && s.forecast.date) labels.add(s.forecast.date);
    });
    const days = Array.from(labels).sort();
    const datasets = [];
    Object.values(series).forEach((s, index) => {
      const values = new Map(s.points);
      datasets.push({
        label: s.name,
        data: days.map((day) => (values.has(day) ? values.get(day) : null)),
        borderColor: palette[index % palette.length],
        spanGaps: true,
        tension: 0.2,
      });
      if (s.forecast && s.forecast.date && s.points.length) {
        const last = s.points[s.points.length - 1];
        datasets.push({
          label: s.name + " (" + canvas.dataset.labelForecast + ")",
          data: days.map((day) => (day === last[0] ? last[1] : day === s.forecast.date ? 100 : null)),
          borderColor: palette[index % palette.length],
          borderDash: [6, 4],
          spanGaps: true,
          pointRadius: 0,
        });
      }
    });
    datasets.push({
      label: canvas.dataset.labelTarget,
      data: days.map(() => Number(canvas.dataset.target)),
      borderColor: "#c62828",
      borderDash: [2, 2],
      pointRadius: 0,
    });
    new Chart(canvas, {
      type: "line",
      data: { labels: days, datasets: datasets },
      options: { animation: false, scales: { y: { min: 0, max: 100 } }, plugins: { legend: { position: "bottom" } } },
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

  document.addEventListener("DOMContentLoaded", () => { drawMap(); drawTrend(); sortable(); });
})();

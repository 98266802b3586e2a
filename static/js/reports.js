/* Charts of the report pages: each canvas names the JSON script (json_script) that holds its data.
   Drawn on load and again after every HTMX swap of the report body. */
(() => {
  const colours = ["#2e7d32", "#1565c0", "#f9a825", "#c62828", "#6a1b9a", "#00838f", "#ef6c00"];
  const charts = [];
  const draw = () => {
    while (charts.length) charts.pop().destroy();
    document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const source = document.getElementById(canvas.dataset.chart);
      if (!source || typeof Chart === "undefined") return;
      const spec = JSON.parse(source.textContent);
      const pareto = spec.type === "pareto";
      const datasets = spec.datasets.map((set, index) => ({
        ...set,
        backgroundColor: spec.type === "doughnut" ? colours : colours[index % colours.length],
        borderColor: spec.type === "doughnut" ? "#fff" : colours[index % colours.length],
        ...(pareto && index === 1 ? { type: "line", yAxisID: "cumulative" } : {}),
      }));
      const scales = spec.type === "doughnut" ? {} : {
        x: { stacked: Boolean(spec.stacked) },
        y: { stacked: Boolean(spec.stacked), beginAtZero: true },
        ...(pareto ? { cumulative: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } } } : {}),
      };
      charts.push(new Chart(canvas, {
        type: pareto ? "bar" : spec.type,
        data: { labels: spec.labels, datasets },
        options: { animation: false, responsive: true, maintainAspectRatio: false, scales },
      }));
    });
  };
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();

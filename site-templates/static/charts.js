/* plaintext-crm: a Gantt chart wider than its box opens scrolled to today, not to its first month. */
(function () {
  "use strict";
  document.querySelectorAll(".gantt-figure").forEach(function (figure) {
    var svg = figure.querySelector("svg");
    var line = figure.querySelector(".gantt-today");
    if (!svg || !line || figure.scrollWidth <= figure.clientWidth) return;
    var scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    figure.scrollLeft = Math.max(0, line.x1.baseVal.value * scale - figure.clientWidth / 3);
  });
})();

// Owner filter of the pipeline board. Without scripts the board shows every card; with them,
// choosing an owner hides the other cards and shows that owner's column totals, which the build
// computed (the figures are in the #owner-totals JSON island; nothing is computed here).
(function () {
  "use strict";
  var form = document.getElementById("owner-filter");
  var select = document.getElementById("owner-select");
  var island = document.getElementById("owner-totals");
  if (!form || !select || !island) { return; }
  var totals = JSON.parse(island.textContent);
  var cards = Array.prototype.slice.call(document.querySelectorAll("#board .card"));
  var original = {};
  ["count", "total", "weighted"].forEach(function (kind) {
    document.querySelectorAll("[data-" + kind + "]").forEach(function (node) {
      original[kind + ":" + node.getAttribute("data-" + kind)] = node.innerHTML;
    });
  });

  function show(owner) {
    cards.forEach(function (card) {
      card.hidden = owner !== "" && card.getAttribute("data-owner") !== owner;
    });
    var mine = owner === "" ? null : (totals[owner] || {});
    ["count", "total", "weighted"].forEach(function (kind) {
      document.querySelectorAll("[data-" + kind + "]").forEach(function (node) {
        var stage = node.getAttribute("data-" + kind);
        if (mine === null) {
          node.innerHTML = original[kind + ":" + stage];
        } else {
          var figures = mine[stage];
          node.textContent = figures ? String(figures[kind]) : (kind === "count" ? "0" : "—");
        }
      });
    });
  }

  window.plaintextCrmOwnerFilter(form, select, show);
}());

// Owner filter of the overview and the forecast, carried over from the pipeline board (#owner=ID in the
// address). Without scripts the pages show everyone's figures; with them, choosing an owner shows that
// owner's figures, which the build computed (the #owner-figures JSON island; nothing is computed here),
// keeps the team's and that owner's targets, and makes the links to the board, forecast and overview
// carry the choice.
(function () {
  "use strict";
  var form = document.getElementById("owner-filter");
  var select = document.getElementById("owner-select");
  var island = document.getElementById("owner-figures");
  if (!form || !select || !island) { return; }
  var figures = JSON.parse(island.textContent);
  var original = {};
  var stats = Array.prototype.slice.call(document.querySelectorAll("[data-figure]"));
  stats.forEach(function (node) {
    var value = node.querySelector(".stat-value");
    var note = node.querySelector(".stat-note");
    original[node.getAttribute("data-figure")] = {value: value ? value.innerHTML : "", note: note ? note.innerHTML : ""};
  });

  function show(owner) {
    var mine = owner === "" ? null : (figures[owner] || {});
    stats.forEach(function (node) {
      var key = node.getAttribute("data-figure");
      var own = mine ? mine[key] : null;
      var value = node.querySelector(".stat-value");
      var note = node.querySelector(".stat-note");
      if (value) { if (own) { value.textContent = own.value; } else { value.innerHTML = original[key].value; } }
      if (note) { if (own && own.note) { note.textContent = own.note; } else { note.innerHTML = original[key].note; } }
    });
    document.querySelectorAll("[data-target-owner]").forEach(function (row) {
      var who = row.getAttribute("data-target-owner");
      row.hidden = owner !== "" && who !== "team" && who !== owner;
    });
  }

  window.plaintextCrmOwnerFilter(form, select, show);
}());

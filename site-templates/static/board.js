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
    carry(owner);
    document.body.classList.toggle("is-filtered", owner !== "");
  }

  // links to the forecast and the overview (and this board) carry the choice: their filters pick it up
  var FILTERED = /^(\.\.\/)*(board|forecast|index)\.html(#.*)?$/;
  function carry(owner) {
    document.querySelectorAll("a[href]").forEach(function (link) {
      var href = link.getAttribute("href");
      if (FILTERED.test(href)) {
        link.setAttribute("href", href.split("#")[0] + (owner ? "#owner=" + encodeURIComponent(owner) : ""));
      }
    });
  }

  function fromHash() {
    var match = /(?:^#|&)owner=([^&]*)/.exec(window.location.hash);
    return match ? decodeURIComponent(match[1]) : "";
  }

  form.hidden = false;
  select.addEventListener("change", function () {
    show(select.value);
    var hash = select.value ? "#owner=" + encodeURIComponent(select.value) : " ";
    try {  // keep the choice in the address, so a link or a reload shows the same owner
      window.history.replaceState(null, "", hash === " " ? window.location.pathname + window.location.search : hash);
    } catch (error) {
      // some browsers refuse history changes for file:// pages; the filter works regardless
    }
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  var initial = fromHash();
  if (initial && select.querySelector('option[value="' + initial.replace(/"/g, "") + '"]')) {
    select.value = initial;
    show(initial);
  }
}());

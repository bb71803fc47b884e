// The owner filter's choice, shared by the board (board.js) and the overview and forecast (owner-filter.js):
// the <select> shows the form, calls the page's own `show(owner)`, keeps the choice in the address
// (#owner=ID) and makes the links to the board, forecast and overview carry it.
window.plaintextCrmOwnerFilter = function (form, select, show) {
  "use strict";
  var FILTERED = /^(\.\.\/)*(board|forecast|index)\.html(#.*)?$/;

  function choose(owner) {
    show(owner);
    document.querySelectorAll("a[href]").forEach(function (link) {
      var href = link.getAttribute("href");
      if (FILTERED.test(href)) {
        link.setAttribute("href", href.split("#")[0] + (owner ? "#owner=" + encodeURIComponent(owner) : ""));
      }
    });
    document.body.classList.toggle("is-filtered", owner !== "");
  }

  form.hidden = false;
  select.addEventListener("change", function () {
    choose(select.value);
    try {  // keep the choice in the address, so a link or a reload shows the same owner
      window.history.replaceState(null, "", select.value ? "#owner=" + encodeURIComponent(select.value)
        : window.location.pathname + window.location.search);
    } catch (error) {
      // some browsers refuse history changes for file:// pages; the filter works regardless
    }
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  var match = /(?:^#|&)owner=([^&]*)/.exec(window.location.hash);
  var initial = match ? decodeURIComponent(match[1]) : "";
  if (initial && select.querySelector('option[value="' + initial.replace(/"/g, "") + '"]')) {
    select.value = initial;
    choose(initial);
  }
};

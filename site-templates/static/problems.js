// Owner filter of the Problems page. Without scripts every file shows; with them, choosing an owner
// hides the files (and their contents links) of the other owners' records. The choice is kept in the
// address (problems.html#owner=ana).
(function () {
  "use strict";
  var form = document.getElementById("problem-filter");
  var select = document.getElementById("problem-owner");
  if (!form || !select) { return; }
  var items = Array.prototype.slice.call(document.querySelectorAll(".problem-file, .toc li[data-owner]"));

  function show(owner) {
    items.forEach(function (item) {
      item.hidden = owner !== "" && item.getAttribute("data-owner") !== owner;
    });
  }

  var match = /owner=([^&]*)/.exec(window.location.hash);
  if (match) { select.value = decodeURIComponent(match[1]); }
  if (select.selectedIndex < 0) { select.value = ""; }
  show(select.value);
  select.addEventListener("change", function () {
    show(select.value);
    history.replaceState(null, "", select.value ? "#owner=" + encodeURIComponent(select.value) : "#");
  });
  form.hidden = false;
})();

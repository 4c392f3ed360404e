// The report list's bulk review: «отметить все на странице» and the count of marked reports.
(function () {
  "use strict";
  var all = document.getElementById("select-page");
  var count = document.getElementById("bulk-selected");
  var picks = Array.prototype.slice.call(document.querySelectorAll(".bulk-pick"));
  function update() {
    var marked = picks.filter(function (p) { return p.checked; }).length;
    if (count) { count.textContent = String(marked); }
    if (all) {
      all.checked = marked > 0 && marked === picks.length;
      all.indeterminate = marked > 0 && marked < picks.length;
    }
  }
  if (all) {
    all.addEventListener("change", function () {
      picks.forEach(function (p) { p.checked = all.checked; });
      update();
    });
  }
  picks.forEach(function (p) { p.addEventListener("change", update); });
  update();
})();

// The chart picker: the name field completes from the list of the chosen level.
(function () {
  "use strict";
  var level = document.getElementById("audience-level");
  var name = document.getElementById("audience-name");
  if (!level || !name) return;
  function sync() {
    if (level.value === "region") {
      name.removeAttribute("list");
      name.disabled = true;
    } else {
      name.setAttribute("list", "names-" + level.value);
      name.disabled = false;
    }
  }
  level.addEventListener("change", function () { name.value = ""; sync(); });
  sync();
})();

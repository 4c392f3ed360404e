/* Swagger UI draws a parameter's value list (<select>) and text box without a label: each gets
   the parameter's name, also for operations opened later. */
(function () {
  "use strict";
  function label() {
    document.querySelectorAll("tr[data-param-name]").forEach(function (row) {
      row.querySelectorAll("select, input, textarea").forEach(function (field) {
        if (!field.hasAttribute("aria-label") && !field.labels.length) {
          field.setAttribute("aria-label", row.getAttribute("data-param-name"));
        }
      });
    });
  }
  new MutationObserver(label).observe(document.body, { childList: true, subtree: true });
})();

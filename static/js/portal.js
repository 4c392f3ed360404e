/* Every page: the phone menu button, the current page marked in the menu, and keyboard access to
   tables that scroll sideways. Loaded in <head> (it is small) so that .js-nav is on <html> before
   the first paint and the phone menu never flashes open. Without JavaScript the menu stays open
   and tables still scroll by touch and mouse. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js-nav");

  function setUpMenu() {
    var toggle = document.querySelector(".nav-toggle");
    var menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
    if (!menu) { return; }
    function show(open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
    toggle.addEventListener("click", function () {
      show(toggle.getAttribute("aria-expanded") !== "true");
    });
    // Escape closes the open menu and puts the keyboard back on its button.
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true"
          && getComputedStyle(toggle).display !== "none") {
        show(false);
        toggle.focus();
      }
    });
  }

  // The menu link of the section this page belongs to (the longest matching address), where
  // the server marked none (it marks the link whose address is exactly this page's).
  function markCurrentLink() {
    if (document.querySelector(".topbar .nav a[aria-current]")) { return; }
    var best = null;
    var here = window.location.pathname;
    document.querySelectorAll(".topbar .nav a[href]").forEach(function (link) {
      var path = link.pathname;
      if (path !== "/" && here.indexOf(path) === 0
          && (!best || path.length > best.pathname.length)) {
        best = link;
      }
    });
    if (best) { best.setAttribute("aria-current", "page"); }
  }

  // A table outside a .table-wrap gets one, so it scrolls in its own frame on a phone.
  function wrapTables() {
    document.querySelectorAll("main table").forEach(function (table) {
      if (table.parentElement.classList.contains("table-wrap")) { return; }
      var wrap = document.createElement("div");
      wrap.className = "table-wrap";
      table.parentNode.insertBefore(wrap, table);
      wrap.appendChild(table);
    });
  }

  function frameName(wrap) {
    var table = wrap.querySelector("table");
    var caption = table && table.querySelector("caption");
    var text = caption ? caption.textContent : "";
    for (var el = wrap; !text && el && el.tagName !== "MAIN"; el = el.parentElement) {
      for (var prev = el.previousElementSibling; prev && !text; prev = prev.previousElementSibling) {
        var heading = /^H[1-6]$/.test(prev.tagName) ? prev : prev.querySelector("h1, h2, h3");
        if (heading) { text = heading.textContent; }
      }
    }
    text = (text || "Таблица").replace(/\s+/g, " ").trim();
    return text + " (таблица прокручивается по горизонтали)";
  }

  // A frame that scrolls takes keyboard focus (arrow keys then scroll it) and is named for
  // screen readers; one that fits is left out of the Tab order. Frames a template made
  // focusable itself are left as they are.
  function updateFrames() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      if (wrap.hasAttribute("tabindex") && !wrap.hasAttribute("data-scroll-frame")) { return; }
      if (wrap.scrollWidth > wrap.clientWidth + 1 || wrap.scrollHeight > wrap.clientHeight + 1) {
        wrap.setAttribute("data-scroll-frame", "");
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        if (!wrap.hasAttribute("aria-label")) { wrap.setAttribute("aria-label", frameName(wrap)); }
      } else if (wrap.hasAttribute("data-scroll-frame")) {
        ["data-scroll-frame", "tabindex", "role", "aria-label"].forEach(function (name) {
          wrap.removeAttribute(name);
        });
      }
    });
  }

  var pending = false;
  function updateSoon() {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; updateFrames(); });
  }

  // A filter that matters only for figures made of Table 1 (which reports count) is shown only
  // while such a figure is chosen; hidden, it is also left out of the request.
  function followMetric() {
    document.querySelectorAll("form").forEach(function (form) {
      var metric = form.querySelector("select[name=metric]");
      var only = form.querySelectorAll("[data-table1-only]");
      if (!metric || !only.length) { return; }
      function update() {
        var table1 = metric.value.indexOf("t1_") === 0;
        only.forEach(function (label) {
          label.hidden = !table1;
          label.querySelectorAll("select, input").forEach(function (el) { el.disabled = !table1; });
        });
      }
      metric.addEventListener("change", update);
      update();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    followMetric();
    setUpMenu();
    markCurrentLink();
    wrapTables();
    updateFrames();
    window.addEventListener("resize", updateSoon);
    window.addEventListener("load", updateSoon);
  });
})();

/* Table 1 entry: Enter moves down like in Excel, Tab moves right (the browser's own order),
   and a block copied from Excel (tab-separated rows) is pasted starting at the focused cell. */
(function () {
  "use strict";

  function cellAt(grid, row, col) {
    return grid.querySelector('input[data-row="' + row + '"][data-col="' + col + '"]');
  }

  function position(input) {
    return { row: Number(input.dataset.row), col: Number(input.dataset.col) };
  }

  function markDirty(input) {
    var stored = input.dataset.stored || "";
    input.classList.toggle("dirty", input.value.trim() !== stored);
  }

  function onKeyDown(event) {
    var input = event.target;
    if (event.key !== "Enter" || !input.matches("input[data-row]")) return;
    event.preventDefault();
    var grid = input.closest("[data-grid]");
    var here = position(input);
    var step = event.shiftKey ? -1 : 1;
    var next = cellAt(grid, here.row + step, here.col);
    if (!next) {
      // Past the last indicator: the first indicator of the next month.
      next = cellAt(grid, event.shiftKey ? 4 : 0, here.col + step);
    }
    if (next) { next.focus(); next.select(); }
  }

  function parseClipboard(text) {
    var rows = text.replace(/\r\n?/g, "\n").replace(/\n$/, "").split("\n");
    return rows.map(function (line) { return line.split("\t"); });
  }

  function onPaste(event) {
    var input = event.target;
    if (!input.matches("input[data-row]")) return;
    var text = (event.clipboardData || window.clipboardData).getData("text");
    if (text.indexOf("\t") === -1 && text.indexOf("\n") === -1) return;  // a single value
    event.preventDefault();
    var grid = input.closest("[data-grid]");
    var start = position(input);
    parseClipboard(text).forEach(function (cells, r) {
      cells.forEach(function (value, c) {
        var target = cellAt(grid, start.row + r, start.col + c);
        if (target) {
          target.value = value.replace(/[\s\u00a0]/g, "");
          markDirty(target);
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("table1-form");
    if (!form) return;
    form.addEventListener("keydown", onKeyDown);
    form.addEventListener("paste", onPaste);
    form.addEventListener("input", function (event) {
      if (event.target.matches("input[data-row]")) markDirty(event.target);
    });
    form.querySelectorAll("input[data-row]").forEach(markDirty);
  });
})();

/* The grid opens where the work is: at the first invalid cell (scrolled into view and focused),
   else at the month asked for (?month=) or the first month the person can still edit. */
(function () {
  "use strict";

  function scrollToColumn(wrap, header) {
    var label = wrap.querySelector("thead th:first-child");
    var offset = header.offsetLeft - (label ? label.offsetWidth : 0) - 4;
    wrap.scrollLeft = Math.max(0, offset);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("table1-form");
    if (!form) return;
    var invalid = form.querySelector("td.invalid input");
    if (invalid) {
      invalid.scrollIntoView({ block: "center", inline: "center" });
      invalid.focus();
      invalid.select();
      return;
    }
    var month = form.dataset.focusMonth;
    if (!month) return;
    form.querySelectorAll(".grid-wrap").forEach(function (wrap) {
      var header = wrap.querySelector('th[data-month="' + month + '"]');
      if (header) {
        header.classList.add("focus");
        scrollToColumn(wrap, header);
      }
    });
    if (new URLSearchParams(window.location.search).has("month")) {
      var first = form.querySelector('input[name^="v-"][name*="-' + month + '-"]');
      if (first) {
        first.focus({ preventScroll: true });
        first.scrollIntoView({ block: "center", inline: "nearest" });
      }
    }
  });
})();

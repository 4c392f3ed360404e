/* The background export page: polls the job's status and shows the download link when ready. */
(function () {
  "use strict";
  var box = document.getElementById("export-job");
  if (!box) { return; }

  function show(status) {
    document.getElementById("export-state").textContent = status.state_label;
    document.getElementById("export-progress").value = status.progress;
    document.getElementById("export-percent").textContent = status.progress + " %";
    var error = document.getElementById("export-error");
    error.hidden = !status.error;
    error.textContent = status.error || "";
    if (status.download) {
      var link = document.getElementById("export-download");
      link.href = status.download;
      link.textContent = "Скачать " + (status.filename || "файл");
      document.getElementById("export-ready").hidden = false;
    }
    document.getElementById("export-expired").hidden = status.state !== "expired";
    return status.state === "done" || status.state === "failed" || status.state === "expired";
  }

  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (status) { if (!show(status)) { window.setTimeout(poll, 1000); } })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  poll();
})();

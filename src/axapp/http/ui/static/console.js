// The console's only script: submit the account selector on change, and refresh the trader
// panel when the account stream reports an order, fill, position or balance event. Every
// page works without it (the selector has a button; a reload shows the same data).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  var panel = document.getElementById("panel");
  var status = document.getElementById("live-status");
  if (!panel || !panel.dataset.stream || !window.EventSource) { return; }
  var pending = null;
  function refresh() {
    pending = null;
    fetch(panel.dataset.panel, { credentials: "same-origin" }).then(function (answer) {
      if (answer.redirected) { window.location.reload(); return null; }  // logged out
      if (!answer.ok) { throw new Error("status " + answer.status); }
      return answer.text();
    }).then(function (html) {
      if (html === null) { return; }
      panel.innerHTML = html;
      status.textContent = "Updated " + new Date().toLocaleTimeString();
    }).catch(function () { status.textContent = "Live update failed; reload the page."; });
  }
  var source = new EventSource(panel.dataset.stream);
  ["order", "fill", "position", "balance"].forEach(function (name) {
    source.addEventListener(name, function () {
      if (pending === null) { pending = setTimeout(refresh, 300); }
    });
  });
  source.addEventListener("closed", function () {
    source.close();
    status.textContent = "Live updates stopped (access changed); reload the page.";
  });
});

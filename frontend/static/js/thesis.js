/* The thesis form: counts the matching startups while the investor edits it. The form works
   without this script (its "Count matching startups" button asks the server). */
(function () {
  "use strict";
  var form = document.getElementById("thesis-form");
  var out = document.getElementById("preview-count");
  if (!form || !out || !form.dataset.previewUrl) return;
  var timer = null;
  function update() {
    var params = new URLSearchParams(new FormData(form));
    params.delete("csrf_token"); params.delete("action");
    fetch(form.dataset.previewUrl + "?" + params.toString(), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (t) { if (t) { out.textContent = t; } });
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 250); });
  form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(update, 100); });
})();

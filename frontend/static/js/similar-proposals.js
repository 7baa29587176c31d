/* The duplicate hint while a proposal's title is typed; the server checks again on submit. */
(function () {
  "use strict";
  var title = document.getElementById("f-title"), region = document.getElementById("f-region");
  var hint = document.getElementById("similar-hint"), timer = null;
  if (!title || !region || !hint) return;
  function show(items) {
    hint.textContent = "";
    if (!items.length) return;
    var box = document.createElement("div"); box.className = "notice";
    var p = document.createElement("p"); p.textContent = hint.dataset.heading || "";
    var ul = document.createElement("ul");
    items.forEach(function (item) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = item.url; a.textContent = item.title; li.appendChild(a);
      li.appendChild(document.createTextNode(" (" + item.supporters + ")"));
      ul.appendChild(li);
    });
    box.appendChild(p); box.appendChild(ul); hint.appendChild(box);
  }
  function check() {
    if (title.value.trim().length < 4 || !region.value.trim()) { show([]); return; }
    var q = new URLSearchParams({region: region.value, title: title.value});
    fetch("/api/v1/proposals/similar?" + q.toString()).then(function (r) { return r.ok ? r.json() : {items: []}; })
      .then(function (body) { show(body.items || []); }).catch(function () {});
  }
  function later() { clearTimeout(timer); timer = setTimeout(check, 400); }
  title.addEventListener("input", later); region.addEventListener("change", later);
})();

/* A list's filters come open (so that they work without this script); on a phone they fold
   behind their "Filters" summary, so that the list itself comes first. Filters in use
   (the page was asked with a query) stay open, so that the reader sees what is applied. */
(function () {
  "use strict";
  if (!window.matchMedia || !window.matchMedia("(max-width: 40rem)").matches) return;
  var folds = document.querySelectorAll("details.filters-fold");
  for (var i = 0; i < folds.length; i++) {
    if (folds[i].getAttribute("data-active") !== "true") folds[i].open = false;
  }
})();

// sitegen serve only (/__sitegen/diff.js): marks what one region's column shows and the other's does not.
(function () {
  "use strict";
  var SELECTOR = "p, li, h1, h2, h3, h4, h5, h6, dt, dd, td, th, figcaption, blockquote";
  var columns = document.querySelectorAll(".sitegen-diff-page");
  if (columns.length !== 2) return;

  function texts(column) {
    var seen = new Set();
    column.querySelectorAll(SELECTOR).forEach(function (el) {
      seen.add(el.textContent.replace(/\s+/g, " ").trim());
    });
    return seen;
  }

  var sets = [texts(columns[0]), texts(columns[1])];
  [0, 1].forEach(function (i) {
    var other = sets[1 - i];
    columns[i].querySelectorAll(SELECTOR).forEach(function (el) {
      var text = el.textContent.replace(/\s+/g, " ").trim();
      if (text && !other.has(text)) el.classList.add("sitegen-only");
    });
  });
  document.documentElement.setAttribute("data-sitegen-diff", "marked");
})();

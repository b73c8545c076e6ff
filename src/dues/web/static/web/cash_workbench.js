/* Keys of the cash workbench (web/cash/workbench.html): j/k move between lines, a/c accept or confirm,
   r goes to the reason, Escape leaves a field; after a line is swapped the next one takes focus. */
(function () {
  "use strict";
  var rows = function () { return Array.prototype.slice.call(document.querySelectorAll("[data-cash-row]")); };
  function current() { var el = document.activeElement; return el && el.closest ? el.closest("[data-cash-row]") : null; }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target, typing = t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA");
    if (e.key === "Escape" && typing) { var r0 = current(); if (r0) r0.focus(); return; }
    if (typing) return;
    var list = rows(), row = current(), i = row ? list.indexOf(row) : -1;
    if (e.key === "j" || e.key === "k") {
      var next = list[e.key === "j" ? Math.min(i + 1, list.length - 1) : Math.max(i - 1, 0)];
      if (next) { next.focus(); next.scrollIntoView({block: "nearest"}); e.preventDefault(); }
    } else if (row && (e.key === "a" || e.key === "c" || e.key === "r")) {
      var el = row.querySelector('[data-key="' + e.key + '"]');
      if (!el) return;
      e.preventDefault();
      if (e.key === "r") el.focus(); else el.click();
    }
  });
  document.body.addEventListener("htmx:afterSwap", function (e) {
    var row = e.detail.target && document.getElementById(e.detail.target.id);
    if (row && row.matches && row.matches("[data-cash-row]")) {
      var list = rows(), next = list[list.indexOf(row) + 1] || row; next.focus();
    }
  });
})();

/* The bulk bar of the customer lists (web/_bulk_bar.html): counts the ticked customers, ticks them all, and
   refuses to submit with none ticked. Loaded (deferred) from base.html; listens on the document, so it keeps
   working when htmx replaces the list, and does nothing on pages without the bar. */
(function () {
  "use strict";
  function boxes() { return Array.prototype.slice.call(document.querySelectorAll('input[name="codes"][form="bulk-form"]')); }
  function update() {
    var count = document.getElementById("bulk-count");
    if (!count) return;
    var n = boxes().filter(function (b) { return b.checked; }).length;
    count.textContent = n + " selected";
    var all = document.getElementById("bulk-all");
    if (all) { all.checked = n > 0 && n === boxes().length; all.indeterminate = n > 0 && n < boxes().length; }
  }
  document.addEventListener("change", function (e) {
    if (e.target.id === "bulk-all") { boxes().forEach(function (b) { b.checked = e.target.checked; }); }
    if (e.target.id === "bulk-all" || (e.target.name === "codes")) update();
  });
  document.addEventListener("submit", function (e) {
    if (e.target.id !== "bulk-form") return;
    if (!boxes().some(function (b) { return b.checked; })) { e.preventDefault(); alert("Select at least one customer."); }
  });
  document.addEventListener("htmx:afterSwap", update);
  update();
})();

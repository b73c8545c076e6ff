/* The top bar's search box (web/_search_box.html): "/" focuses it, Escape clears the suggestions, and the
   typeahead waits for 2 characters. Loaded (deferred) from base.html; without the box it does nothing. */
(function () {
  "use strict";
  document.addEventListener("keydown", function (e) {
    var t = e.target, typing = t && (t.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName));
    var box = document.getElementById("topsearch-q");
    if (!box) return;
    if (e.key === "/" && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) { e.preventDefault(); box.focus(); box.select(); }
    else if (e.key === "Escape" && t && t.closest && t.closest(".topsearch")) {
      document.getElementById("topsearch-suggest").innerHTML = ""; box.focus();
    }
  });
  document.addEventListener("htmx:configRequest", function (e) {  // the typeahead waits for 2 characters
    if (e.detail.elt && e.detail.elt.id === "topsearch-q" && e.detail.elt.value.trim().length < 2) {
      e.preventDefault(); document.getElementById("topsearch-suggest").innerHTML = "";
    }
  });
})();

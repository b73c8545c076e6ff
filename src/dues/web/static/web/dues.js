/* dues — the few behaviours every page shares. Loaded (deferred) from base.html; the pages work without it.

   1. The main menu on a phone: the "Menu" button opens and closes the navigation (#main-menu). Without
      this script the navigation simply wraps under the brand.
   2. Focus after an htmx swap. When htmx replaces part of a page (a worklist row after "Log", a cash line
      after "Accept"), the element that had focus is often gone and keyboard users would be thrown back to
      the top of the page. After every swap, focus moves to:
        - the first element marked `data-focus-after-swap` inside the new content (or the new content
          itself if it carries the attribute): mark the field or button the user most likely wants next;
        - otherwise, only if focus was lost, the swapped element itself (a row gets tabindex="-1").
      Focus is never taken from a field the user is still typing in. Pages need nothing more than the
      attribute; give swapped targets an id (hx-target="#line-42") or use hx-target="closest tr".
   3. The loading indicator: base.html's body carries hx-indicator="#busy", so every htmx request shows the
      top bar's indicator; CSS shows it only after 200 ms, so quick requests never flicker.
   4. Bar widths: a bar's width is its data-width (e.g. "37.50%"), set here through the DOM because the
      Content-Security-Policy allows no style attributes in the page; on load and in every htmx swap.
   5. Forms that answer 400 with the form and its errors: an element marked data-swap-errors lets htmx swap
      such an answer in (htmx leaves error answers out by default; hx-on would need eval, which the policy
      forbids).
*/
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function setupMenu() {
    var button = document.querySelector("[data-menu-button]");
    var menu = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!button || !menu) return;
    button.hidden = false;
    function set(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("is-open", open);
    }
    set(false);
    button.addEventListener("click", function () { set(button.getAttribute("aria-expanded") !== "true"); });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && button.getAttribute("aria-expanded") === "true") { set(false); button.focus(); }
    });
  }

  var FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]";
  var swapped = null;

  function focusAfterSwap(target) {
    if (!target || !document.contains(target)) return;
    var wanted = target.matches("[data-focus-after-swap]") ? target : target.querySelector("[data-focus-after-swap]");
    var active = document.activeElement;
    var lost = !active || active === document.body || !document.contains(active);
    if (!wanted && !lost) return;
    var el = wanted || target;
    if (!el.matches(FOCUSABLE)) el.setAttribute("tabindex", "-1");
    el.focus({ preventScroll: false });
  }

  document.addEventListener("htmx:beforeSwap", function (e) {
    var t = e.detail.target;
    swapped = t ? { id: t.id, parent: t.parentNode, index: t.parentNode ? Array.prototype.indexOf.call(t.parentNode.children, t) : -1, el: t } : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var s = swapped;
    swapped = null;
    if (!s) return;
    var target = (s.id && document.getElementById(s.id)) || (document.contains(s.el) ? s.el : null);
    if (!target && s.parent && s.index >= 0) target = s.parent.children[s.index] || null;  // outerHTML without an id
    focusAfterSwap(target);
  });

  function applyWidths(root) {
    var els = Array.prototype.slice.call(root.querySelectorAll("[data-width]"));
    if (root.matches && root.matches("[data-width]")) els.push(root);
    els.forEach(function (el) { el.style.width = el.getAttribute("data-width"); });
  }
  document.addEventListener("htmx:load", function (e) { if (e.detail && e.detail.elt) applyWidths(e.detail.elt); });

  document.addEventListener("htmx:beforeSwap", function (e) {
    var elt = e.target;  // the element that made the request
    if (e.detail.xhr.status === 400 && elt && elt.closest && elt.closest("[data-swap-errors]")) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  function ready() { setupMenu(); applyWidths(document); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();

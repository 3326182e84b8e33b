// A button with `data-print` prints the page. The Content-Security-Policy allows no inline script (no
// onclick attributes), so the handler lives here (escrow.api.edge).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });
})();

/* Parkwacht page behaviour that needs script (kept out of the HTML for the Content-Security-Policy). */
(function () {
  "use strict";
  document.querySelectorAll("[data-pw-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
}());

/* Ask before a form does what cannot simply be undone (templates/confirm_dialog.html).
   A form holding <dialog class="confirm"> opens it instead of posting; the dialog's own submit
   button posts the form. Escape and Cancel close it (the browser returns focus to the button).
   Browsers without <dialog> post the form directly, as they do with JavaScript off. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var dialog = form.querySelector("dialog.confirm");
    if (!dialog || typeof dialog.showModal !== "function") return;
    if (event.submitter && event.submitter.hasAttribute("data-confirm-submit")) return;
    event.preventDefault();
    if (!dialog.open) dialog.showModal();
  });
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest("[data-confirm-cancel]")) {
      target.closest("dialog").close();
    } else if (target.matches("dialog.confirm[open]")) {
      target.close(); /* a click on the backdrop, outside the dialog's box */
    }
  });
})();

// Copy buttons on the seller's dashboard (templates/marketplace/_copy_button.html).
// The buttons are rendered hidden and shown here, so a page without JavaScript shows no
// button that does nothing; the handle and the link stay selectable text either way.
(function () {
  "use strict";

  // Browsers without the Clipboard API, or pages not in a secure context (a LAN address
  // over plain HTTP), still allow a copy from a selection made in a user gesture.
  function copyBySelection(text) {
    var field = document.createElement("textarea");
    field.value = text;
    field.setAttribute("readonly", "");
    field.style.position = "fixed";
    field.style.opacity = "0";
    document.body.appendChild(field);
    field.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    document.body.removeChild(field);
    return copied;
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(
        function () { return true; },
        function () { return copyBySelection(text); }
      );
    }
    return Promise.resolve(copyBySelection(text));
  }

  function announce(button, message) {
    var status = button.parentNode.querySelector(".copy-status");
    status.textContent = message;
    clearTimeout(button.copyTimer);
    button.copyTimer = setTimeout(function () { status.textContent = ""; }, 3000);
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(button.dataset.copy).then(function (copied) {
        announce(button, copied ? button.dataset.copied : button.dataset.copyFailed);
      });
    });
  });
})();

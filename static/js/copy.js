// "Copy" buttons: [data-copy-target=<input id>] copies that input's value. Without
// JavaScript (or the Clipboard API) the button stays hidden and the field is selectable.
(function () {
  "use strict";
  function status(button, text) {
    var box = button.closest("section");
    var out = box && box.querySelector("[data-copy-status]");
    if (out) out.textContent = text;
  }
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    if (!input) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      input.select();
      var done = function () { status(button, "Copied."); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(done, function () {
          status(button, "Select the address and copy it.");
        });
      } else {
        try { document.execCommand("copy"); done(); } catch (e) { status(button, "Select the address and copy it."); }
      }
    });
  });
})();

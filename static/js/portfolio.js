// The portfolio's "Print or save as PDF" button. Without JavaScript it stays hidden and the
// page says how to print from the browser instead.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
});

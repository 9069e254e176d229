// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // Move keyboard and screen-reader focus to the first field with an error,
  // or to the error summary, after a form comes back invalid.
  var summary = document.querySelector("[data-error-summary]");
  var firstInvalid = document.querySelector("[aria-invalid='true']");
  if (firstInvalid) {
    firstInvalid.focus();
  } else if (summary) {
    summary.focus();
  }
});

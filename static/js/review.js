// The match review: after htmx swaps a decided row in place, keep the keyboard where it was,
// on the row's next control (Override, once Accept is gone). Without JavaScript the forms post
// and the page comes back to the same filters, scrolled to the row.
document.addEventListener("htmx:afterSwap", function (event) {
  var target = event.detail.target;
  if (!target || !target.classList) return;
  // An outerHTML swap reports the old, detached row: find the new one by its id.
  var row = target.id ? document.getElementById(target.id) : null;
  if (row && row.classList && row.classList.contains("proposal-row")) {
    var next = row.querySelector("[data-next-focus]") || row.querySelector("button, a");
    if (next) next.focus();
  } else if (target.classList.contains("override-slot")) {
    var first = target.querySelector("select, [role=alert] a, textarea");
    if (first) first.focus();
  }
});

// "Cancel" in an override form opened in its row: close it (the row hides once it is empty) and
// give the keyboard back to the row's Override button. On the form's own page it is a plain link.
document.addEventListener("click", function (event) {
  var link = event.target.closest ? event.target.closest("[data-close-override]") : null;
  var slot = link ? link.closest(".override-slot") : null;
  if (!slot) return;
  event.preventDefault();
  slot.innerHTML = "";
  var row = document.getElementById(slot.id.replace("override-", "proposal-"));
  var opener = row ? row.querySelector("[data-next-focus]") : null;
  if (opener) opener.focus();
});

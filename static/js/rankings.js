// Drag ordering for the ranking page (templates/matching/rankings/rank.html).
// Progressive enhancement: without this file the page is a plain form of number inputs
// and "never" checkboxes, and it stays that form with it. The inputs are the only thing
// submitted; everything here just writes 1, 2, 3… into them in the order the rows show.
//
// The table becomes: the ranked rows in order, a divider, then the unranked rows (blank,
// "no preference", always in the page's alphabetical order), then the "never" rows, which
// are out of the numbering and cannot be dragged until "never" is unticked.
// Uses SortableJS (static/vendor/sortable.min.js) for mouse and touch dragging.
document.addEventListener("DOMContentLoaded", function () {
  var table = document.querySelector("[data-rank-table]");
  if (!table || typeof Sortable === "undefined") {
    return;
  }
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.querySelectorAll("tr[data-rank-row]"));
  var columns = table.tHead.rows[0].cells.length + 1;
  var ranked = []; // the ranked rows, best first: the state everything else is drawn from

  function nameOf(row) {
    return row.querySelector("th[scope='row']").textContent.trim();
  }
  function numberInput(row) {
    return row.querySelector("input[type='number']");
  }
  function neverBox(row) {
    return row.querySelector("input[type='checkbox']");
  }
  function isNever(row) {
    return neverBox(row).checked;
  }

  // --- Build the extra pieces: an "Order" column, a divider and a live region.

  var orderHeader = document.createElement("th");
  orderHeader.scope = "col";
  orderHeader.textContent = "Order";
  table.tHead.rows[0].insertBefore(orderHeader, table.tHead.rows[0].firstChild);

  var ICON_UP = '<svg aria-hidden="true" focusable="false" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round"><path d="M6 15l6-6 6 6"/></svg>';
  var ICON_DOWN = '<svg aria-hidden="true" focusable="false" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round"><path d="M6 9l6 6 6-6"/></svg>';
  var ICON_GRIP = '<svg aria-hidden="true" focusable="false" width="14" height="20" viewBox="0 0 14 20" fill="currentColor"><circle cx="4" cy="4" r="1.6"/><circle cx="10" cy="4" r="1.6"/><circle cx="4" cy="10" r="1.6"/><circle cx="10" cy="10" r="1.6"/><circle cx="4" cy="16" r="1.6"/><circle cx="10" cy="16" r="1.6"/></svg>';

  function moveButton(row, direction) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "rank-move";
    button.setAttribute("data-rank-move", direction);
    button.setAttribute("aria-label", "Move " + nameOf(row) + " " + direction);
    button.innerHTML = direction === "up" ? ICON_UP : ICON_DOWN;
    return button;
  }

  rows.forEach(function (row) {
    var cell = document.createElement("td");
    cell.className = "rank-order";
    var handle = document.createElement("span");
    handle.className = "rank-handle";
    handle.setAttribute("aria-hidden", "true"); // keyboards and screen readers use the buttons
    handle.title = "Drag to reorder";
    handle.innerHTML = ICON_GRIP;
    cell.appendChild(handle);
    cell.appendChild(moveButton(row, "up"));
    cell.appendChild(moveButton(row, "down"));
    row.insertBefore(cell, row.firstChild);
  });

  var divider = document.createElement("tr");
  divider.className = "rank-divider";
  var dividerCell = document.createElement("td");
  dividerCell.colSpan = columns;
  divider.appendChild(dividerCell);

  var status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  status.setAttribute("data-rank-status", "");
  table.parentNode.insertBefore(status, table);

  var help = document.querySelector("[data-rank-drag-help]");
  if (help) {
    // Only now: a hidden description would still be read out to people without JavaScript.
    help.hidden = false;
    var form = table.closest("form");
    form.setAttribute("aria-describedby", (form.getAttribute("aria-describedby") + " " + help.id).trim());
  }
  table.classList.add("rank-sortable");

  // --- Draw the rows from `ranked`.

  function render(writeNumbers) {
    ranked = ranked.filter(function (row) { return !isNever(row); });
    var unranked = rows.filter(function (row) { return ranked.indexOf(row) === -1 && !isNever(row); });
    var never = rows.filter(isNever);
    var order = ranked.concat([divider], unranked, never);

    var current = Array.prototype.slice.call(tbody.rows);
    var changed = order.some(function (row, i) { return current[i] !== row; });
    if (changed) {
      var active = document.activeElement; // moving a row drops the focus inside it
      order.forEach(function (row) { tbody.appendChild(row); });
      if (active && tbody.contains(active) && document.activeElement !== active) {
        active.focus();
      }
    }

    rows.forEach(function (row) {
      var place = ranked.indexOf(row);
      var never = isNever(row);
      if (writeNumbers) {
        numberInput(row).value = place === -1 ? "" : String(place + 1);
      }
      numberInput(row).readOnly = never;
      row.classList.toggle("is-ranked", place !== -1);
      row.classList.toggle("is-never", never);
      row.querySelector("[data-rank-move='up']").disabled = never || place === 0;
      row.querySelector("[data-rank-move='down']").disabled = never || place === -1;
    });

    dividerCell.textContent = ranked.length
      ? "You ranked " + ranked.length + " of " + rows.length + ". Below this line: no preference (after your choices, best fit first)."
      : "Nobody ranked yet. Drag a row above this line, or use its up button, to rank it.";
  }

  var announceTimer = null;
  function announce(message) {
    // Cleared first so that the same message twice is still read out.
    status.textContent = "";
    window.clearTimeout(announceTimer);
    announceTimer = window.setTimeout(function () { status.textContent = message; }, 100);
  }

  function announcePlace(row) {
    var place = ranked.indexOf(row);
    if (isNever(row)) {
      announce(nameOf(row) + " is marked never and is not ranked.");
    } else if (place === -1) {
      announce(nameOf(row) + " is not ranked: no preference.");
    } else {
      announce(nameOf(row) + " moved to position " + (place + 1) + " of " + ranked.length + ".");
    }
  }

  // --- Start from what the form holds: positive whole numbers, in order.

  function numberIn(row) {
    var raw = numberInput(row).value.trim();
    return /^\d+$/.test(raw) && parseInt(raw, 10) >= 1 ? parseInt(raw, 10) : null;
  }

  ranked = rows
    .filter(function (row) { return !isNever(row) && numberIn(row) !== null; })
    .sort(function (a, b) { return numberIn(a) - numberIn(b) || rows.indexOf(a) - rows.indexOf(b); });
  // The numbers are left as they came: after a refused save they carry the errors shown
  // beside them. The first change renumbers everything.
  render(false);

  // --- Dragging.

  Sortable.create(tbody, {
    handle: ".rank-handle",
    animation: 150,
    ghostClass: "rank-ghost",
    chosenClass: "rank-chosen",
    // "never" rows stay at the bottom: nothing is dropped among them.
    onMove: function (event) {
      return !event.related.classList.contains("is-never");
    },
    onEnd: function (event) {
      var dividerAt = Array.prototype.indexOf.call(tbody.rows, divider);
      ranked = Array.prototype.slice.call(tbody.rows, 0, dividerAt);
      render(true);
      if (event.oldIndex !== event.newIndex) {
        announcePlace(event.item);
      }
    },
  });

  // --- Move up and Move down: one place at a time. Up from the unranked part ranks a row
  // last; down from the last ranked place unranks it.

  tbody.addEventListener("click", function (event) {
    var button = event.target.closest("[data-rank-move]");
    if (!button || button.disabled) {
      return;
    }
    var row = button.closest("tr");
    var place = ranked.indexOf(row);
    if (button.getAttribute("data-rank-move") === "up") {
      if (place === -1) {
        ranked.push(row);
      } else if (place > 0) {
        ranked.splice(place, 1);
        ranked.splice(place - 1, 0, row);
      }
    } else if (place !== -1) {
      ranked.splice(place, 1);
      if (place < ranked.length) {
        ranked.splice(place + 1, 0, row);
      }
    }
    render(true);
    if (button.disabled) {
      // At the top or bottom now: keep the focus in the row, on the button still usable.
      var other = row.querySelector("[data-rank-move]:not([disabled])");
      (other || numberInput(row)).focus();
    } else {
      button.focus();
    }
    announcePlace(row);
  });

  // --- Typing a number puts the row at that place (past the end: last); clearing it
  // unranks the row. Anything else is left for the server to explain.

  tbody.addEventListener("change", function (event) {
    var row = event.target.closest("tr[data-rank-row]");
    if (!row) {
      return;
    }
    if (event.target === numberInput(row)) {
      var raw = event.target.value.trim();
      var wanted = numberIn(row);
      if (raw !== "" && wanted === null) {
        return;
      }
      ranked = ranked.filter(function (other) { return other !== row; });
      if (wanted !== null) {
        ranked.splice(Math.min(wanted, ranked.length + 1) - 1, 0, row);
      }
    } else if (event.target === neverBox(row)) {
      ranked = ranked.filter(function (other) { return other !== row; });
    } else {
      return;
    }
    render(true);
    announcePlace(row);
  });
});

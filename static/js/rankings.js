// The ranking page (templates/matching/rankings/rank.html): no lost clicks.
// Progressive enhancement: without this file the page is a plain form of number inputs
// and "never" checkboxes, and it stays that form with it. The inputs are the only thing
// submitted.
//
// Rows move only when the person asks: by dragging a handle, with a row's up/down
// buttons, or with "Sort by my numbers". Typing a number or ticking "never" never moves a
// row (a row moving on blur made the next click land on another row). A number used twice
// (or out of range) is shown at once beside the row and in a live region, and the form is
// not sent until it is fixed; the server refuses it too.
//
// The table is: the ranked rows (in the order of their numbers), the divider, then everyone
// else in fit order, "never" rows where they stand. The server draws the same order
// (views/rankings.py, _in_saved_order), so a reload shows what was saved and nothing jumps.
// The divider's words never change (a line that grew as you typed pushed the rows down);
// whether the rows follow the numbers is said beside "Sort by my numbers", in a space
// kept for it. A number used twice is said once (the live region) and marked "Used twice"
// beside each row that has it.
// Uses SortableJS (static/vendor/sortable.min.js) for mouse and touch dragging.
document.addEventListener("DOMContentLoaded", function () {
  var table = document.querySelector("[data-rank-table]");
  if (!table) {
    return;
  }
  var form = table.closest("form");
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.querySelectorAll("tr[data-rank-row]"));
  var fitOrder = rows.slice().sort(function (a, b) { // best fit first
    return parseInt(a.getAttribute("data-rank-fit"), 10) - parseInt(b.getAttribute("data-rank-fit"), 10);
  });
  var liveError = form.querySelector("[data-rank-live-error]");

  function nameOf(row) {
    return row.querySelector("[data-rank-name]").textContent.trim();
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
  function errorOf(row) {
    return row.querySelector("[data-rank-error]");
  }
  function numberIn(row) {
    var raw = numberInput(row).value.trim();
    return /^\d+$/.test(raw) && parseInt(raw, 10) >= 1 ? parseInt(raw, 10) : null;
  }

  // --- Checking the numbers as they are typed (works without SortableJS too).

  var serverErrors = rows.some(function (row) { return !errorOf(row).hidden; });

  function problems() {
    var max = rows.length;
    var byNumber = {};
    var found = [];
    rows.forEach(function (row) {
      var raw = numberInput(row).value.trim();
      if (raw === "" || isNever(row)) {
        return;
      }
      var n = numberIn(row);
      if (n === null || n > max) {
        found.push({ row: row, message: "Enter a number from 1 to " + max + ", or leave it blank." });
        return;
      }
      (byNumber[n] = byNumber[n] || []).push(row);
    });
    Object.keys(byNumber).forEach(function (n) {
      if (byNumber[n].length > 1) {
        var names = byNumber[n].map(nameOf);
        var summary = "Number " + n + " is given to " + names.slice(0, -1).join(", ") + " and " +
          names[names.length - 1] + ": give each person a different number.";
        byNumber[n].forEach(function (row) {
          found.push({ row: row, message: "Used twice", summary: summary });
        });
      }
    });
    return found;
  }

  function showProblems() {
    var found = problems();
    rows.forEach(function (row) {
      var mine = found.filter(function (p) { return p.row === row; });
      var error = errorOf(row);
      if (mine.length) {
        error.textContent = mine[0].message;
        error.hidden = false;
        numberInput(row).setAttribute("aria-invalid", "true");
      } else if (!serverErrors || numberInput(row).value !== numberInput(row).defaultValue) {
        error.textContent = "";
        error.hidden = true;
        numberInput(row).removeAttribute("aria-invalid");
      }
    });
    var duplicates = found.filter(function (p) { return p.summary; });
    var text = "";
    if (duplicates.length) {
      var seen = {};
      text = duplicates
        .map(function (p) { return p.summary; })
        .filter(function (m) { return seen[m] ? false : (seen[m] = true); })
        .join(" ");
    } else if (found.length) {
      text = nameOf(found[0].row) + ": " + found[0].message;
    }
    if (liveError.textContent !== text) {
      liveError.textContent = text;
    }
    liveError.hidden = text === "";
    return found;
  }

  var refresh = function () {}; // the divider's words, once the ordering below is set up
  tbody.addEventListener("input", function (event) {
    if (event.target.type === "number") {
      showProblems();
      refresh();
    }
  });

  form.addEventListener("submit", function (event) {
    var found = showProblems();
    if (found.length) {
      event.preventDefault();
      event.stopImmediatePropagation(); // app.js would mark the form busy
      if (found.some(function (p) { return p.row.hidden; })) {
        clearFilters(); // every row to fix is on screen
      }
      numberInput(found[0].row).focus();
    }
  }, true);

  // --- Finding people in a long list (two hundred rows): a search on the name (and, for
  // mentors, specialty and rank), accents and case ignored as in the start form's cohort
  // search (cohort.js); a PGY filter; "only those I numbered". Rows are only hidden, never
  // removed or disabled, so every number typed, shown or not, is submitted. The filter is
  // applied when its controls change, never while a number is typed (a row must not vanish
  // under the cursor).
  var filters = form.querySelector("[data-rank-filters]");
  var search = filters.querySelector("[data-rank-search]");
  var stageFilter = filters.querySelector("[data-rank-stage-filter]");
  var onlyNumbered = filters.querySelector("[data-rank-only-ranked]");
  var filterCount = filters.querySelector("[data-rank-filter-count]");
  var clearFilter = filters.querySelector("[data-rank-filter-clear]");
  var fold = window.MentorMatch.fold;
  var searchText = rows.map(function (row) {
    var about = row.querySelector(".rank-desc");
    return fold(nameOf(row) + " " + (about ? about.textContent : ""));
  });
  function applyFilter() {
    var words = fold(search.value).split(/\s+/).filter(Boolean);
    var stage = stageFilter ? stageFilter.value : "";
    var active = words.length > 0 || stage !== "" || onlyNumbered.checked;
    var shown = 0;
    rows.forEach(function (row, i) {
      var show = words.every(function (word) { return searchText[i].indexOf(word) !== -1; }) &&
        (!stage || row.getAttribute("data-rank-stage") === stage) &&
        (!onlyNumbered.checked || (!isNever(row) && numberIn(row) !== null));
      row.hidden = !show;
      shown += show ? 1 : 0;
    });
    var text = "";
    if (active) {
      text = (shown ? "Showing " + shown + " of " + rows.length + "." : "Nobody matches.") +
        " Numbers given to people not shown are kept and submitted with your list.";
    }
    if (filterCount.textContent !== text) {
      filterCount.textContent = text;
    }
    clearFilter.hidden = !active;
    table.classList.toggle("is-filtered", active);
  }
  // Also when a list is refused: a row to fix is never left hidden.
  function clearFilters() {
    search.value = "";
    if (stageFilter) {
      stageFilter.value = "";
    }
    onlyNumbered.checked = false;
    applyFilter();
  }
  search.addEventListener("input", applyFilter);
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault(); // Enter filters; it must not send the list
      applyFilter();
    }
  });
  if (stageFilter) {
    stageFilter.addEventListener("change", applyFilter);
  }
  onlyNumbered.addEventListener("change", applyFilter);
  clearFilter.addEventListener("click", function () {
    clearFilters();
    search.focus();
  });
  filters.hidden = false;
  applyFilter(); // a browser may bring back what the controls held (the back button)

  // "Never" takes a row out of the numbering where it stands: its number is cleared and
  // locked until "never" is unticked. The row does not move.
  function markNever(row) {
    var never = isNever(row);
    numberInput(row).readOnly = never;
    if (never) {
      numberInput(row).value = "";
    }
    row.classList.toggle("is-never", never);
  }
  tbody.addEventListener("change", function (event) {
    var row = event.target.closest("tr[data-rank-row]");
    if (row && event.target === neverBox(row)) {
      markNever(row);
      showProblems();
      refresh();
    }
  });
  rows.forEach(markNever);

  // --- Explicit ordering: needs SortableJS for the drag; the buttons work without it.

  var status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  status.setAttribute("data-rank-status", "");
  table.parentNode.insertBefore(status, table);

  var announceTimer = null;
  function announce(message) {
    // Cleared first so that the same message twice is still read out.
    status.textContent = "";
    window.clearTimeout(announceTimer);
    announceTimer = window.setTimeout(function () { status.textContent = message; }, 100);
  }

  var ICON_UP = '<svg aria-hidden="true" focusable="false" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round"><path d="M6 15l6-6 6 6"/></svg>';
  var ICON_DOWN = '<svg aria-hidden="true" focusable="false" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round"><path d="M6 9l6 6 6-6"/></svg>';
  var ICON_GRIP = '<svg aria-hidden="true" focusable="false" width="14" height="20" viewBox="0 0 14 20" fill="currentColor"><circle cx="4" cy="4" r="1.6"/><circle cx="10" cy="4" r="1.6"/><circle cx="4" cy="10" r="1.6"/><circle cx="10" cy="10" r="1.6"/><circle cx="4" cy="16" r="1.6"/><circle cx="10" cy="16" r="1.6"/></svg>';
  var canDrag = typeof Sortable !== "undefined";

  function moveButton(row, direction) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "rank-move";
    button.setAttribute("data-rank-move", direction);
    button.setAttribute("aria-label", "Move " + nameOf(row) + " " + direction);
    button.innerHTML = direction === "up" ? ICON_UP : ICON_DOWN;
    return button;
  }

  var orderHeader = document.createElement("th");
  orderHeader.scope = "col";
  orderHeader.textContent = "Order";
  table.tHead.rows[0].insertBefore(orderHeader, table.tHead.rows[0].firstChild);
  var columns = table.tHead.rows[0].cells.length;
  rows.forEach(function (row) {
    var cell = document.createElement("td");
    cell.className = "rank-order";
    if (canDrag) {
      var handle = document.createElement("span");
      handle.className = "rank-handle";
      handle.setAttribute("aria-hidden", "true"); // keyboards and screen readers use the buttons
      handle.title = "Drag to reorder";
      handle.innerHTML = ICON_GRIP;
      cell.appendChild(handle);
    }
    cell.appendChild(moveButton(row, "up"));
    cell.appendChild(moveButton(row, "down"));
    row.insertBefore(cell, row.firstChild);
  });

  var divider = tbody.querySelector("[data-rank-divider]");
  divider.cells[0].colSpan = columns;

  var sortBar = document.createElement("div");
  sortBar.className = "rank-sort-bar";
  var sortButton = document.createElement("button");
  sortButton.type = "button";
  sortButton.className = "button-secondary button-small";
  sortButton.setAttribute("data-rank-sort", "");
  sortButton.textContent = "Sort by my numbers";
  var sortHint = document.createElement("p");
  sortHint.className = "rank-sort-hint";
  sortHint.setAttribute("data-rank-sort-hint", "");
  sortBar.appendChild(sortHint);
  sortBar.appendChild(sortButton);
  table.parentNode.insertBefore(sortBar, table);

  var help = document.querySelector("[data-rank-drag-help]");
  if (help) {
    // Only now: a hidden description would still be read out to people without JavaScript.
    help.hidden = false;
    form.setAttribute("aria-describedby", (form.getAttribute("aria-describedby") + " " + help.id).trim());
  }
  table.classList.add("rank-sortable");

  // The ranked rows, best first, as the typed numbers say (ties: as the rows stand now).
  function rankedByNumbers() {
    var shown = Array.prototype.slice.call(tbody.rows);
    return rows
      .filter(function (row) { return !isNever(row) && numberIn(row) !== null; })
      .sort(function (a, b) { return numberIn(a) - numberIn(b) || shown.indexOf(a) - shown.indexOf(b); });
  }

  // Draw: ranked rows, the divider, everyone else in fit order ("never" rows among them,
  // where they stand). With writeNumbers, the numbers become 1, 2, 3… in the order shown.
  function draw(ranked, writeNumbers) {
    var others = fitOrder.filter(function (row) { return ranked.indexOf(row) === -1; });
    var order = ranked.concat([divider], others);
    var current = Array.prototype.slice.call(tbody.rows);
    if (order.some(function (row, i) { return current[i] !== row; })) {
      var active = document.activeElement; // moving a row drops the focus inside it
      order.forEach(function (row) { tbody.appendChild(row); });
      if (active && tbody.contains(active) && document.activeElement !== active) {
        active.focus();
      }
    }
    if (writeNumbers) {
      rows.forEach(function (row) {
        var place = ranked.indexOf(row);
        numberInput(row).value = place === -1 ? "" : String(place + 1);
      });
      // app.js keeps a draft of what is typed; these numbers are typed too.
      form.dispatchEvent(new Event("input", { bubbles: true }));
      showProblems();
    }
    refresh();
  }

  // The divider's words and the buttons' states follow the numbers, without moving rows.
  refresh = function () {
    var shown = Array.prototype.slice.call(tbody.rows);
    var dividerAt = shown.indexOf(divider);
    var above = shown.slice(0, dividerAt);
    var numbered = rankedByNumbers();
    var inStep = numbered.length === above.length && above.every(function (row, i) {
      return numbered[i] === row;
    });
    rows.forEach(function (row) {
      var never = isNever(row);
      var place = numbered.indexOf(row); // where the move buttons take it from
      row.classList.toggle("is-ranked", !never && numberIn(row) !== null);
      row.querySelector("[data-rank-move='up']").disabled = never || place === 0;
      row.querySelector("[data-rank-move='down']").disabled = never || place === -1;
    });
    var hint;
    if (!inStep) {
      hint = "Rows not sorted by your numbers yet.";
    } else if (numbered.length) {
      hint = "You ranked " + numbered.length + " of " + rows.length + ".";
    } else {
      hint = "Nobody ranked yet.";
    }
    if (sortHint.textContent !== hint) {
      sortHint.textContent = hint;
    }
    sortBar.classList.toggle("is-out-of-step", !inStep);
  };

  function refuseWhileDuplicates() {
    var found = showProblems();
    if (found.length) {
      announce("Fix the numbers first: " + liveError.textContent);
      return true;
    }
    return false;
  }

  function announcePlace(row, ranked) {
    var place = ranked.indexOf(row);
    if (isNever(row)) {
      announce(nameOf(row) + " is marked never and is not ranked.");
    } else if (place === -1) {
      announce(nameOf(row) + " is not ranked: no preference.");
    } else {
      announce(nameOf(row) + " moved to position " + (place + 1) + " of " + ranked.length + ".");
    }
  }

  sortButton.addEventListener("click", function () {
    if (refuseWhileDuplicates()) {
      return;
    }
    var ranked = rankedByNumbers();
    draw(ranked, false);
    announce("Rows sorted by your numbers: " + ranked.length + " ranked.");
  });

  // Move up and Move down: one place at a time, from the order the numbers say. Up from the
  // unranked part ranks a row last; down from the last ranked place unranks it.
  tbody.addEventListener("click", function (event) {
    var button = event.target.closest("[data-rank-move]");
    if (!button || button.disabled || refuseWhileDuplicates()) {
      return;
    }
    var row = button.closest("tr");
    var ranked = rankedByNumbers();
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
    draw(ranked, true);
    if (button.disabled) {
      // At the top or bottom now: keep the focus in the row, on the button still usable.
      var other = row.querySelector("[data-rank-move]:not([disabled])");
      (other || numberInput(row)).focus();
    } else {
      button.focus();
    }
    announcePlace(row, ranked);
  });

  // On load the rows are put in the order of the saved (or restored) numbers: nothing has
  // been clicked yet. The numbers are left as they came: after a refused save they carry
  // the errors shown beside them.
  if (problems().length) {
    refresh(); // the rows stay as the server drew them
  } else {
    draw(rankedByNumbers(), false);
  }

  if (!canDrag) {
    return;
  }
  Sortable.create(tbody, {
    handle: ".rank-handle",
    animation: 150,
    ghostClass: "rank-ghost",
    chosenClass: "rank-chosen",
    // A "never" row is not dragged (its handle is hidden; untick "never" first). Nothing
    // moves while two rows share a number: which one was meant is the person's to say.
    onMove: function (event) {
      return !event.dragged.classList.contains("is-never") && problems().length === 0;
    },
    onStart: function () {
      refuseWhileDuplicates();
    },
    onEnd: function (event) {
      if (problems().length) {
        return;
      }
      var dividerAt = Array.prototype.indexOf.call(tbody.rows, divider);
      var ranked = Array.prototype.slice.call(tbody.rows, 0, dividerAt).filter(function (row) {
        return !isNever(row);
      });
      // Numbers typed below the line (not sorted yet) stay ranked, after the rows above it,
      // unless this drag took that row below the line.
      var typedBelow = rankedByNumbers().filter(function (row) {
        return ranked.indexOf(row) === -1 && row !== event.item;
      });
      ranked = ranked.concat(typedBelow);
      draw(ranked, true);
      if (event.oldIndex !== event.newIndex) {
        announcePlace(event.item, ranked);
      }
    },
  });
});

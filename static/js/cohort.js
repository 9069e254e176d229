// The start form's resident list at the size of a real program (templates/matching/match_runs/form.html).
// Without JavaScript it is a plain list of checkboxes. With it: a search box (name or e-mail,
// ignoring case and accents), a PGY filter, "only residents with no mentor of this kind",
// "Select all shown" / "Select none shown" acting on the rows the filters leave visible, and
// a live count ("83 of 225 residents chosen"). Hidden rows keep their choice: filtering never
// changes what is submitted. The weights' total is kept up to date beside them.
(function () {
  "use strict";

  var fold = window.MentorMatch.fold;

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  function enhanceCohort(fieldset) {
    var tools = fieldset.querySelector("[data-cohort-tools]");
    var search = fieldset.querySelector("[data-cohort-search]");
    var pgy = fieldset.querySelector("[data-cohort-pgy]");
    var unpaired = fieldset.querySelector("[data-cohort-unpaired]");
    var count = fieldset.querySelector("[data-cohort-count] strong");
    var shownNote = fieldset.querySelector("[data-cohort-shown]");
    var leftOutNote = fieldset.querySelector("[data-cohort-left-out]");
    var leftOutCount = fieldset.querySelector("[data-cohort-left-out-count]");
    var kindSelect = fieldset.form && fieldset.form.querySelector("select[name='kind']");
    var kindLabels = fieldset.querySelectorAll("[data-cohort-kind-label]");
    var rows = Array.prototype.map.call(fieldset.querySelectorAll(".cohort-list > li[data-pgy]"), function (li) {
      return {
        li: li,
        box: li.querySelector("input[type='checkbox']"),
        text: fold(li.querySelector(".cohort-name").textContent + " " + li.querySelector(".cohort-meta").textContent),
        pgy: li.getAttribute("data-pgy"),
        mentored: (li.getAttribute("data-mentored") || "").split(" ").filter(Boolean),
      };
    });
    var kind = fieldset.getAttribute("data-kind");

    function visible(row) {
      return !row.li.hidden;
    }

    function leftOut(row) {
      return row.mentored.indexOf(kind) !== -1;
    }

    function update() {
      // Read against the residents the run can match (as the page renders it, match_run_start._cohort_count):
      // a resident with a mentor of this kind is left out, chosen or not, and counted beside.
      var choosable = rows.filter(function (r) { return !leftOut(r); });
      var chosen = choosable.filter(function (r) { return r.box.checked; }).length;
      var shown = rows.filter(visible).length;
      var out = rows.length - choosable.length;
      count.textContent = chosen + " of " + choosable.length + " chosen";
      if (leftOutNote) {
        leftOutNote.hidden = out === 0;
        leftOutCount.textContent = out;
      }
      shownNote.textContent = shown === rows.length ? "" : " · " + shown + " shown";
    }

    function filter() {
      var words = fold(search.value).split(/\s+/).filter(Boolean);
      rows.forEach(function (row) {
        var show = words.every(function (w) { return row.text.indexOf(w) !== -1; });
        if (pgy.value && row.pgy !== pgy.value) show = false;
        if (unpaired.checked && row.mentored.indexOf(kind) !== -1) show = false;
        row.li.hidden = !show;
      });
      update();
    }

    function chosenAsMentor(row) {
      // A near-peer ticked among the mentors (they all are, at first): one person cannot be on both sides.
      var form = fieldset.form;
      var box = form && form.querySelector("input[name='mentor_ids'][value='" + row.box.value + "']");
      return Boolean(box && box.checked);
    }

    function setVisible(checked) {
      // "Select all" leaves out residents who already have a mentor of this kind (the run would
      // leave them out anyway, and a ranking window would ask them to rank for nothing) and
      // residents already chosen as mentors of this run (the form would refuse both).
      rows.filter(visible).forEach(function (row) {
        if (!checked || (row.mentored.indexOf(kind) === -1 && !chosenAsMentor(row))) row.box.checked = checked;
      });
      update();
      // Ticking boxes from script fires no "change": tell the start form's warnings.
      fieldset.dispatchEvent(new CustomEvent("cohort:changed", { bubbles: true }));
    }

    function followKind() {
      kind = kindSelect.value;
      var label = kindSelect.options[kindSelect.selectedIndex].text.toLowerCase();
      fieldset.setAttribute("data-kind", kind);
      Array.prototype.forEach.call(kindLabels, function (el) { el.textContent = label; });
      Array.prototype.forEach.call(fieldset.querySelectorAll("[data-mentored-kind]"), function (badge) {
        badge.hidden = badge.getAttribute("data-mentored-kind") !== kind;
      });
      Array.prototype.forEach.call(fieldset.querySelectorAll(".cohort-other-run[data-run-kind]"), function (badge) {
        badge.hidden = badge.getAttribute("data-run-kind") !== kind;
      });
      filter();
    }

    search.addEventListener("input", filter);
    pgy.addEventListener("change", filter);
    unpaired.addEventListener("change", filter);
    fieldset.querySelector("[data-cohort-all]").addEventListener("click", function () { setVisible(true); });
    fieldset.querySelector("[data-cohort-none]").addEventListener("click", function () { setVisible(false); });
    fieldset.addEventListener("change", function (event) {
      if (event.target.name === "mentee_ids") update();
    });
    if (kindSelect) kindSelect.addEventListener("change", followKind);
    // Enter in the search box filters; it must not submit the whole form.
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();
    });
    tools.hidden = false;
    filter();
  }

  function enhanceWeights(fieldset) {
    var inputs = fieldset.querySelectorAll("input[data-weight]");
    var total = fieldset.querySelector("[data-weights-total]");
    function update() {
      var sum = 0;
      var ok = true;
      Array.prototype.forEach.call(inputs, function (input) {
        var value = Number(input.value);
        if (input.value.trim() === "" || !isFinite(value)) ok = false;
        else sum += value;
      });
      total.textContent = ok ? "Total: " + sum + "%" + (sum === 100 ? "" : " (must be 100%)") : "Total: —";
      total.classList.toggle("weights-off", !ok || sum !== 100);
    }
    Array.prototype.forEach.call(inputs, function (input) { input.addEventListener("input", update); });
    update();
  }

  // The start form's warnings, never blocking (the server renders the same sentences:
  // matching/match_runs/selectors.py capacity_shortfall, matching/views/match_run_start.py):
  // the chosen residents the run leaves out (a mentor of the kind already; each row's badge
  // carries the reason in data-note), more residents to match than the chosen mentors' open spots (each mentor's box carries
  // data-spots; a resident who already has a mentor of the kind is left out by the run, so not
  // counted), and, for each other match of this kind waiting for review, the chosen residents
  // it already holds (each resident's row lists them in data-other-runs).
  var NAMED = 5;

  function names(list) {
    var shown = list.slice(0, NAMED).join(", ");
    return list.length > NAMED ? shown + " and " + (list.length - NAMED) + " more" : shown;
  }

  function enhanceNotices(box) {
    var form = box.closest("form");
    var leftOutNotice = box.querySelector("[data-left-out-notice]");
    var capacity = box.querySelector("[data-capacity-warning]");
    var others = box.querySelector("[data-other-runs-warning]");
    var items = others.querySelectorAll("li[data-run]");
    var kindSelect = form.querySelector("select[name='kind']");

    function checked(name) {
      return Array.prototype.slice.call(form.querySelectorAll("input[name='" + name + "']:checked"));
    }

    function update() {
      var kind = kindSelect ? kindSelect.value : "";
      var held = {};
      var residents = 0;
      var leftOut = [];
      checked("mentee_ids").forEach(function (input) {
        var li = input.closest("li[data-mentored]");
        if (!li) return;
        var name = li.querySelector(".cohort-name").textContent.trim();
        if ((li.getAttribute("data-mentored") || "").split(" ").indexOf(kind) === -1) residents += 1;
        else {
          var badge = li.querySelector("[data-mentored-kind='" + kind + "']");
          leftOut.push(name + " (" + (badge ? badge.getAttribute("data-note") : "") + ")");
        }
        (li.getAttribute("data-other-runs") || "").split(" ").filter(Boolean).forEach(function (run) {
          (held[run] = held[run] || []).push(name);
        });
      });
      var spots = checked("mentor_ids").reduce(function (sum, input) {
        return sum + (Number(input.getAttribute("data-spots")) || 0);
      }, 0);
      var short = residents - spots;
      var text = short > 0
        ? plural(residents, "resident", "residents") + ", " + plural(spots, "open spot", "open spots") + ": " +
          short + " will be unmatched unless you add mentors or raise capacity."
        : "";
      // The same sentence as matching/views/match_run_start.py _left_out_sentence.
      var sentence = leftOut.length
        ? "Left out of this match, not asked to rank and not matched: " + leftOut.slice(0, NAMED).join("; ") +
          (leftOut.length > NAMED ? " and " + (leftOut.length - NAMED) + " more" : "") + "."
        : "";
      if (leftOutNotice && leftOutNotice.textContent !== sentence) leftOutNotice.textContent = sentence;
      if (leftOutNotice) leftOutNotice.hidden = !sentence;
      if (capacity.textContent !== text) capacity.textContent = text;
      capacity.hidden = !text;
      var any = false;
      Array.prototype.forEach.call(items, function (li) {
        var list = held[li.getAttribute("data-run")] || [];
        var show = list.length > 0 && li.getAttribute("data-run-kind") === kind;
        var text = names(list);
        var span = li.querySelector("[data-run-names]");
        if (span.textContent !== text) span.textContent = text;
        li.hidden = !show;
        any = any || show;
      });
      others.hidden = !any;
    }

    form.addEventListener("change", update);
    form.addEventListener("cohort:changed", update);
    update();
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-cohort]"), enhanceCohort);
    Array.prototype.forEach.call(document.querySelectorAll("[data-start-notices]"), enhanceNotices);
    Array.prototype.forEach.call(document.querySelectorAll("[data-weights]"), enhanceWeights);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

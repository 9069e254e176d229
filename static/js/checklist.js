// Long checkbox lists (core.widgets.ChecklistSelectMultiple) get a filter box that ignores
// case and accents ("nguyen" finds "Nguyễn"), a count read out politely, and, for grouped
// lists marked data-checklist-narrow, a select showing one group at a time. A hidden
// checkbox is still submitted: filtering never changes what is chosen.
// A <select data-narrow-by="id_specialty"> shows only the <optgroup> named like the chosen
// option of that other select (a subspecialty under its specialty).
(function () {
  "use strict";

  var fold = window.MentorMatch.fold;

  var counter = 0;

  function enhance(list) {
    var fieldset = list.closest("fieldset");
    var legend = fieldset && fieldset.querySelector("legend");
    var name = legend ? legend.textContent.replace(/\s*\*\s*$/, "").replace(/:\s*$/, "").trim() : "the list";
    var items = Array.prototype.map.call(list.querySelectorAll(".checklist-options > li"), function (li) {
      return { li: li, box: li.querySelector("input"), text: fold(li.textContent) };
    });
    var groups = Array.prototype.slice.call(list.querySelectorAll(".checklist-group"));
    var id = (list.id || "checklist-" + ++counter) + "-filter";

    var tools = document.createElement("div");
    tools.className = "checklist-tools";
    var label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = "Find in " + name.charAt(0).toLowerCase() + name.slice(1);
    var input = document.createElement("input");
    input.type = "search";
    input.id = id;
    input.autocomplete = "off";
    input.setAttribute("aria-controls", list.id || "");
    var field = document.createElement("div");
    field.className = "checklist-find";
    field.appendChild(label);
    field.appendChild(input);
    tools.appendChild(field);

    var narrow = null;
    if (list.dataset.checklistNarrow && groups.length > 1) {
      var narrowField = document.createElement("div");
      narrowField.className = "checklist-find";
      var narrowLabel = document.createElement("label");
      narrowLabel.htmlFor = id + "-group";
      narrowLabel.textContent = list.dataset.checklistNarrow;
      narrow = document.createElement("select");
      narrow.id = id + "-group";
      narrow.appendChild(new Option("All", ""));
      groups.forEach(function (group) {
        var title = group.dataset.checklistGroup;
        narrow.appendChild(new Option(title, title));
      });
      var start = list.dataset.checklistStart || "";
      narrow.value = groups.some(function (g) { return g.dataset.checklistGroup === start; }) ? start : "";
      narrowField.appendChild(narrowLabel);
      narrowField.appendChild(narrow);
      tools.appendChild(narrowField);
    }
    var status = document.createElement("p");
    status.className = "checklist-count";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    tools.appendChild(status);

    var announce;
    function apply(event) {
      var words = fold(input.value).split(/\s+/).filter(Boolean);
      var only = narrow ? narrow.value : "";
      var shown = 0;
      var chosen = 0;
      items.forEach(function (item) {
        var group = item.li.closest(".checklist-group");
        var inGroup = !only || (group && group.dataset.checklistGroup === only);
        var match = inGroup && words.every(function (w) { return item.text.indexOf(w) !== -1; });
        item.li.hidden = !match;
        if (match) shown++;
        if (item.box && item.box.checked) chosen++;
      });
      groups.forEach(function (group) {
        group.hidden = !group.querySelector(".checklist-options > li:not([hidden])");
      });
      var text = (shown === items.length ? "All " + items.length + " shown" : shown + " of " + items.length + " shown") +
        ", " + chosen + " chosen";
      // Written after a pause, so a screen reader hears the count once typing stops.
      clearTimeout(announce);
      if (!event) status.textContent = text;
      else announce = setTimeout(function () { status.textContent = text; }, 250);
    }
    input.addEventListener("input", apply);
    // Enter in the filter box would submit the whole form.
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();
    });
    if (narrow) narrow.addEventListener("change", apply);
    list.addEventListener("change", apply);
    // Counted before the tools are in the page, so the first count is not read out.
    apply();
    list.parentNode.insertBefore(tools, list);
  }

  function narrowSelect(select) {
    var by = document.getElementById(select.dataset.narrowBy);
    if (!by) return;
    var groups = Array.prototype.slice.call(select.querySelectorAll("optgroup"));
    function apply() {
      var chosen = by.selectedIndex > 0 ? by.options[by.selectedIndex].text.trim() : "";
      groups.forEach(function (group) {
        var keep = !chosen || group.label === chosen;
        group.hidden = !keep;
        group.disabled = !keep;
      });
      var current = select.options[select.selectedIndex];
      if (current && current.parentNode.tagName === "OPTGROUP" && current.parentNode.disabled) {
        select.value = "";
      }
    }
    by.addEventListener("change", apply);
    apply();
  }

  document.querySelectorAll("[data-checklist]").forEach(enhance);
  document.querySelectorAll("select[data-narrow-by]").forEach(narrowSelect);
})();

// Progressive enhancement only: every page works without this file.
//
// 1. Focus the first field with an error (or the error summary) after a form comes back.
// 2. A form being submitted ignores a second submit; its buttons look and act disabled
//    (aria-disabled and a class, not the disabled attribute, which would drop the pressed
//    button's name and value from the POST). A page restored from the back/forward cache
//    is usable again. The server is idempotent anyway (core/idempotency.py).
// 3. Every textarea with a maxlength shows "312 / 2,000"; a screen reader hears it with
//    the field's description and, in a polite live region, only when the limit nears or
//    the person pauses, never on every keystroke.
// 4. What people type (and tick) in a POST form is kept in sessionStorage while they type and put
//    back into the same, empty form if it comes back (after an expired session and a
//    sign-in, for instance), with a note offering to discard it. A draft is dropped once
//    its form was sent and the next page is neither the sign-in page nor a form with errors.
// 5. On a phone, a <details data-fold-on-phone> (the directory's filters) starts folded,
//    unless a field in it has an error, so the results are not a long scroll away.
// Shared by the page scripts (checklist.js, cohort.js, rankings.js), which load after this file:
// text folded for searching, accents and case ignored ("Ibáñez" finds "ibanez"; đ, ø and ł too,
// which have no decomposition).
window.MentorMatch = window.MentorMatch || {};
window.MentorMatch.fold = function (text) {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").replace(/[øØ]/g, "o")
    .replace(/[łŁ]/g, "l").toLowerCase().trim();
};

(function () {
  "use strict";

  var DRAFT_PREFIX = "mentormatch:draft:";
  var PENDING_KEY = "mentormatch:draft-sent";
  var SUBMIT_TIMEOUT_MS = 15000;
  var TEXT_TYPES = ["text", "url", "email", "search", "tel", "number", "date", "datetime-local", "time"];

  function storage() {
    try {
      var s = window.sessionStorage;
      s.setItem(DRAFT_PREFIX + "probe", "1");
      s.removeItem(DRAFT_PREFIX + "probe");
      return s;
    } catch (e) {
      return null; // private mode, or storage turned off: drafts are skipped
    }
  }

  function isPostForm(form) {
    return (form.getAttribute("method") || "get").toLowerCase() === "post";
  }

  // --- 1. Focus after errors.

  function focusErrors() {
    var summary = document.querySelector("[data-error-summary]");
    var firstInvalid = document.querySelector("[aria-invalid='true']");
    if (firstInvalid) {
      firstInvalid.focus();
    } else if (summary) {
      summary.focus();
    }
  }

  // --- 2. One submit at a time.

  function submitButtons(form) {
    var inside = Array.prototype.slice.call(form.querySelectorAll("button:not([type]), button[type='submit'], input[type='submit']"));
    if (form.id) {
      var outside = document.querySelectorAll("[form='" + form.id + "'][type='submit']");
      inside = inside.concat(Array.prototype.slice.call(outside));
    }
    return inside;
  }

  function setBusy(form, busy) {
    if (busy) {
      form.setAttribute("data-submitting", "true");
      form.setAttribute("aria-busy", "true");
    } else {
      form.removeAttribute("data-submitting");
      form.removeAttribute("aria-busy");
    }
    submitButtons(form).forEach(function (button) {
      if (busy) {
        button.setAttribute("aria-disabled", "true");
        button.classList.add("is-submitting");
      } else {
        button.removeAttribute("aria-disabled");
        button.classList.remove("is-submitting");
      }
    });
  }

  function onSubmit(event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !isPostForm(form) || form.hasAttribute("data-allow-resubmit")) {
      return;
    }
    if (form.getAttribute("data-submitting") === "true") {
      event.preventDefault(); // the second tap: the first is on its way
      return;
    }
    if (event.defaultPrevented) {
      return; // another script stopped this submit: nothing is on its way
    }
    setBusy(form, true);
    rememberSent(form);
    // A response that is a download leaves the page as it was: free the form again.
    window.setTimeout(function () {
      setBusy(form, false);
    }, SUBMIT_TIMEOUT_MS);
  }

  function releaseAll() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-submitting]"), function (form) {
      setBusy(form, false);
    });
  }

  // --- 3. Character counters.

  var counterSeq = 0;

  function formatNumber(n) {
    return n.toLocaleString("en-US");
  }

  function addCounter(field) {
    var max = parseInt(field.getAttribute("maxlength"), 10);
    if (!max || field.hasAttribute("data-counter")) {
      return;
    }
    field.setAttribute("data-counter", "true");
    counterSeq += 1;
    var id = (field.id || "field-" + counterSeq) + "-count";
    var counter = document.createElement("p");
    counter.className = "char-count";
    counter.id = id;
    var live = document.createElement("span");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", counter);
    counter.insertAdjacentElement("afterend", live);
    var described = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    described.push(id);
    field.setAttribute("aria-describedby", described.join(" "));

    var pause = null;
    var lastBand = null;
    function band(used) {
      if (used >= max) return "full";
      if (used >= max * 0.9) return "near";
      return "ok";
    }
    function update(announce) {
      var used = field.value.length;
      counter.textContent = formatNumber(used) + " / " + formatNumber(max);
      counter.classList.toggle("is-near", used >= max * 0.9);
      var now = band(used);
      if (announce && now !== lastBand && now !== "ok") {
        live.textContent = now === "full" ? "Limit reached: " + formatNumber(max) + " characters." : formatNumber(max - used) + " characters left.";
      }
      lastBand = now;
    }
    field.addEventListener("input", function () {
      update(true);
      window.clearTimeout(pause);
      // After a pause in typing near the limit, say how much room is left, once.
      pause = window.setTimeout(function () {
        var left = max - field.value.length;
        if (left <= max * 0.1) {
          live.textContent = formatNumber(Math.max(left, 0)) + " characters left.";
        }
      }, 1500);
    });
    update(false);
  }

  // --- 4. Drafts.

  function draftFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.readOnly || el.hasAttribute("data-no-draft")) return false;
      if (el.tagName === "TEXTAREA") return true;
      if (el.tagName === "SELECT") return !el.multiple;
      if (isBox(el)) return true;
      return el.tagName === "INPUT" && TEXT_TYPES.indexOf((el.getAttribute("type") || "text").toLowerCase()) !== -1;
    });
  }

  // A checkbox is kept by name and value (a list of boxes shares one name), as "1" or "".
  function isBox(el) {
    return el.tagName === "INPUT" && (el.getAttribute("type") || "").toLowerCase() === "checkbox";
  }

  function fieldKey(el) {
    return isBox(el) ? el.name + "=" + el.value : el.name;
  }

  function draftKey(form) {
    var forms = Array.prototype.filter.call(document.forms, function (f) {
      return f.getAttribute("action") === form.getAttribute("action");
    });
    var action = new URL(form.getAttribute("action") || window.location.pathname, window.location.href).pathname;
    return DRAFT_PREFIX + window.location.pathname + "|" + action + "|" + forms.indexOf(form);
  }

  function canDraft(form) {
    return (
      isPostForm(form) &&
      !form.hasAttribute("data-no-draft") &&
      !form.querySelector("input[type='password']") &&
      draftFields(form).some(function (el) {
        return el.tagName !== "SELECT";
      })
    );
  }

  function readDraft(store, key) {
    try {
      return JSON.parse(store.getItem(key) || "null");
    } catch (e) {
      return null;
    }
  }

  // The hidden version a shared text's form carries (core/concurrency.py).
  function versionInput(form) {
    return form.querySelector("input[type='hidden'][name='version'], input[type='hidden'][name$='-version']");
  }

  function saveDraft(store, form) {
    var values = {};
    var typed = false;
    draftFields(form).forEach(function (el) {
      if (isBox(el)) {
        values[fieldKey(el)] = el.checked ? "1" : "";
        if (el.checked !== el.defaultChecked) typed = true;
        return;
      }
      values[el.name] = el.value;
      if (el.tagName !== "SELECT" && el.value !== el.defaultValue) typed = true;
    });
    var key = draftKey(form);
    try {
      if (typed) {
        var version = versionInput(form);
        var previous = readDraft(store, key);
        // The version the text was typed against: the first one seen, kept while typing goes on.
        var base = previous && previous.version ? previous.version : version ? version.value : null;
        store.setItem(key, JSON.stringify({ values: values, version: base, at: Date.now() }));
      } else {
        store.removeItem(key);
      }
    } catch (e) {
      /* storage full: no draft */
    }
  }

  function isPristine(el) {
    if (isBox(el)) return el.checked === el.defaultChecked;
    if (el.tagName === "SELECT") {
      return Array.prototype.every.call(el.options, function (o) {
        return o.selected === o.defaultSelected;
      });
    }
    return el.value === el.defaultValue;
  }

  function restoreDraft(store, form) {
    var key = draftKey(form);
    var draft = readDraft(store, key);
    if (!draft || !draft.values) return;
    var fields = draftFields(form);
    // Only into a form as the server sent it: never over what is already typed there.
    if (!fields.every(isPristine)) return;
    var restored = [];
    fields.forEach(function (el) {
      var value = draft.values[fieldKey(el)];
      if (isBox(el)) {
        if (typeof value === "string" && (value === "1") !== el.checked) {
          el.checked = value === "1";
          el.dispatchEvent(new Event("change", { bubbles: true }));
          restored.push(el);
        }
        return;
      }
      if (typeof value === "string" && value !== el.value) {
        el.value = value;
        el.dispatchEvent(new Event("input", { bubbles: true }));
        restored.push(el);
      }
    });
    if (!restored.some(function (el) { return el.tagName !== "SELECT"; })) return;
    // Typed against an older version of a shared text: it goes back with that version, so
    // saving it shows the newer one beside it instead of replacing it unseen.
    var version = versionInput(form);
    var shownVersion = version ? version.value : null;
    if (version && draft.version) version.value = draft.version;
    var note = document.createElement("div");
    note.className = "draft-note";
    note.setAttribute("role", "status");
    var text = document.createElement("span");
    text.textContent = "Restored what you typed.";
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "button-small button-secondary";
    discard.textContent = "Discard";
    discard.setAttribute("aria-label", "Discard the restored text");
    discard.addEventListener("click", function () {
      restored.forEach(function (el) {
        if (isBox(el)) {
          el.checked = el.defaultChecked;
          el.dispatchEvent(new Event("change", { bubbles: true }));
          return;
        }
        if (el.tagName === "SELECT") {
          Array.prototype.forEach.call(el.options, function (o) {
            o.selected = o.defaultSelected;
          });
        } else {
          el.value = el.defaultValue;
        }
        el.dispatchEvent(new Event("input", { bubbles: true }));
      });
      if (version) version.value = shownVersion;
      store.removeItem(key);
      note.remove();
      restored[0].focus();
    });
    note.appendChild(text);
    note.appendChild(document.createTextNode(" "));
    note.appendChild(discard);
    form.insertBefore(note, form.firstChild);
  }

  function rememberSent(form) {
    var store = storage();
    if (!store || !canDraft(form)) return;
    saveDraft(store, form);
    try {
      store.setItem(PENDING_KEY, JSON.stringify({ key: draftKey(form) }));
    } catch (e) {
      /* nothing to remember */
    }
  }

  // The page after a submit: the draft it sent goes, unless this page is the sign-in page
  // (the session had expired: nothing was saved) or shows errors (the form came back).
  function settleSent(store) {
    var sent = readDraft(store, PENDING_KEY);
    store.removeItem(PENDING_KEY);
    if (!sent || !sent.key) return;
    if (document.querySelector("[data-keep-drafts], [data-error-summary]")) return;
    store.removeItem(sent.key);
  }

  function setUpDrafts() {
    var store = storage();
    if (!store) return;
    settleSent(store);
    Array.prototype.forEach.call(document.forms, function (form) {
      if (!canDraft(form)) return;
      restoreDraft(store, form);
      var timer = null;
      form.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          saveDraft(store, form);
        }, 300);
      });
      form.addEventListener("change", function () {
        saveDraft(store, form);
      });
    });
  }

  document.addEventListener("submit", onSubmit);
  // htmx sends some forms without leaving the page: they are free again once answered.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target && event.target.closest ? event.target.closest("form") : null;
    if (form) setBusy(form, false);
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) releaseAll();
  });

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("textarea[maxlength]"), addCounter);
    setUpDrafts();
    focusErrors();
  });
})();

(function () {
  "use strict";
  if (!window.matchMedia || !window.matchMedia("(max-width: 600px)").matches) return;
  document.querySelectorAll("details[data-fold-on-phone]").forEach(function (box) {
    if (!box.querySelector(".errorlist, [aria-invalid='true']")) box.open = false;
  });
})();

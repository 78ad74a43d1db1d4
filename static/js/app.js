// SayPro Ops page behaviour: live countdowns, self-refreshing fragments, and the queue's bulk selection.
// Every page works without this script; it only keeps numbers fresh and saves clicks.
(function () {
  "use strict";

  var MINUTE = 60 * 1000;
  var HOUR = 60 * MINUTE;

  function span(ms) {
    var minutes = Math.floor(ms / MINUTE);
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(ms / HOUR);
    var rest = minutes - hours * 60;
    if (hours < 48) return hours + " h " + (rest < 10 ? "0" : "") + rest + " min";
    return Math.floor(hours / 24) + " d " + (hours % 24) + " h";
  }

  // Each countdown carries its deadline and risk point as ISO instants; the server renders the first text.
  function updateCountdowns(root) {
    var now = Date.now();
    root.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var riskAttr = el.getAttribute("data-risk");
      var risk = riskAttr ? Date.parse(riskAttr) : NaN;
      var label = el.querySelector("[data-countdown-text]") || el;
      var left = due - now;
      if (left <= 0) {
        label.textContent = span(-left) + " overdue";
        el.classList.add("breached");
        el.classList.remove("at-risk");
      } else {
        label.textContent = span(left) + " left";
        el.classList.toggle("at-risk", !isNaN(risk) && now >= risk);
      }
    });
  }

  // A table wider than its box scrolls sideways: the box becomes a named stop for Tab, so that keyboard users can
  // scroll it too. Only boxes that do scroll: the others add no stop.
  function markScrollingTables(root) {
    root.querySelectorAll(".table-wrap").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        var caption = box.querySelector("caption");
        var section = box.closest("section, .card");
        var heading = section ? section.querySelector("h2, h3") : null;
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", ((caption || heading || {}).textContent || "Table").trim() + " (scrolls sideways)");
        box.setAttribute("data-scroll-stop", "");
      } else if (!scrolls && box.hasAttribute("data-scroll-stop")) {
        ["tabindex", "role", "aria-label", "data-scroll-stop"].forEach(function (name) { box.removeAttribute(name); });
      }
    });
  }

  // A fragment refreshes by fetching its own URL and swapping its contents; a failed fetch keeps the old view.
  function startRefresh(el) {
    var url = el.getAttribute("data-refresh-url");
    var seconds = parseInt(el.getAttribute("data-refresh-seconds") || "30", 10);
    if (!url || !(seconds > 0)) return;
    window.setInterval(function () {
      if (document.hidden) return;
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          // A redirect means the session ended: leave the page as it is rather than swap in a login form.
          if (!response.ok || response.redirected) return null;
          return response.text();
        })
        .then(function (html) {
          if (html === null || html === undefined) return;
          el.innerHTML = html;
          updateCountdowns(el);
          markScrollingTables(el);
        })
        .catch(function () {});
    }, seconds * 1000);
  }

  function wireBulkSelection(form) {
    var all = form.querySelector("[data-select-all]");
    var boxes = function () { return form.querySelectorAll("input[name='ids']"); };
    var counter = form.querySelector("[data-selected-count]");
    var buttons = form.querySelectorAll("[data-needs-selection]");
    function refresh() {
      var checked = 0;
      boxes().forEach(function (box) { if (box.checked) checked += 1; });
      if (counter) counter.textContent = checked ? checked + " selected" : "None selected";
      buttons.forEach(function (button) { button.disabled = checked === 0; });
      if (all) {
        all.checked = checked > 0 && checked === boxes().length;
        all.indeterminate = checked > 0 && checked < boxes().length;
      }
    }
    if (all) {
      all.addEventListener("change", function () {
        boxes().forEach(function (box) { box.checked = all.checked; });
        refresh();
      });
    }
    form.addEventListener("change", function (event) {
      if (event.target && event.target.name === "ids") refresh();
    });
    refresh();
  }

  // The undo offer counts down its seconds and goes away when the decision can no longer be taken back.
  function startUndoCountdown(form) {
    var left = parseInt(form.getAttribute("data-undo-seconds"), 10);
    var label = form.querySelector("[data-undo-left]");
    if (isNaN(left)) return;
    var timer = window.setInterval(function () {
      left -= 1;
      if (left <= 0) {
        window.clearInterval(timer);
        form.remove();
        return;
      }
      if (label) label.textContent = String(left);
    }, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-undo-seconds]").forEach(startUndoCountdown);
    updateCountdowns(document);
    window.setInterval(function () { updateCountdowns(document); }, 30 * 1000);
    document.querySelectorAll("[data-refresh-url]").forEach(startRefresh);
    document.querySelectorAll("form[data-bulk]").forEach(wireBulkSelection);
    markScrollingTables(document);
    var resizing = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(resizing);
      resizing = window.setTimeout(function () { markScrollingTables(document); }, 200);
    });
  });
})();

// Forms marked data-inplace="#target" post in the background and swap the target with the returned HTML (the
// server answers requests marked X-Requested-With: fetch with that block alone). Delegated, so swapped-in forms
// keep working; a failed request falls back to a normal submission.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-inplace")) return;
    var target = document.querySelector(form.getAttribute("data-inplace"));
    if (!target || !window.fetch) return;
    event.preventDefault();
    var data = new FormData(form);
    if (event.submitter && event.submitter.name) data.append(event.submitter.name, event.submitter.value);
    form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (response.redirected || response.status >= 500) throw new Error("fallback");
        return response.text().then(function (html) { return { html: html, ok: response.ok }; });
      })
      .then(function (answer) {
        target.innerHTML = answer.html;
        target.dispatchEvent(new CustomEvent("saypro:swapped", { bubbles: true, detail: { ok: answer.ok } }));
      })
      .catch(function () { form.submit(); });
  });

  // A select with data-fill-url fetches `<url with its trailing 0 replaced by the chosen value>` (JSON with a
  // "text"), inserts the text into data-fill-target at the writer's cursor (replacing a selection; at the end when
  // the box was never clicked into), records the choice in data-fill-record and, when the answer names a status,
  // preselects it in data-fill-status. Nothing already typed is lost.
  function insertAtCursor(box, text) {
    var value = box.value;
    if (!box.hasAttribute("data-caret") || !value.trim()) {
      box.value = value.trim() ? value.replace(/\s*$/, "\n\n") + text : text;
      box.setSelectionRange(box.value.length, box.value.length);
    } else {
      var start = box.selectionStart, end = box.selectionEnd;
      box.value = value.slice(0, start) + text + value.slice(end);
      box.setSelectionRange(start + text.length, start + text.length);
    }
    box.setAttribute("data-caret", "");
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  }
  // A textarea remembers its caret after it loses focus to the select; mark the boxes the writer has placed it in.
  ["focusin", "select"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      if (event.target instanceof HTMLTextAreaElement) event.target.setAttribute("data-caret", "");
    });
  });
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-fill-url")) return;
    var record = document.querySelector(select.getAttribute("data-fill-record") || "");
    if (!select.value) { if (record) record.value = ""; return; }
    var url = select.getAttribute("data-fill-url").replace(/0\/$/, select.value + "/");
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (!answer) return;
        var box = document.querySelector(select.getAttribute("data-fill-target"));
        if (box) insertAtCursor(box, answer.text);
        if (record) record.value = select.value;
        var status = document.querySelector(select.getAttribute("data-fill-status") || "");
        if (status && answer.status) status.value = answer.status;
      })
      .catch(function () {});
  });

  // Keyboard: j / k move through a list's rows, Enter opens the chosen one, / searches the list, ? lists the keys.
  // Keys typed into a field are the writer's, never shortcuts.
  var NOT_TYPED = ["checkbox", "radio", "button", "submit", "reset", "file"];
  function typing(event) {
    var target = event.target;
    return (target instanceof HTMLInputElement && NOT_TYPED.indexOf(target.type) < 0) ||
      target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement ||
      (target && target.isContentEditable);
  }
  function listRows() {
    return Array.prototype.slice.call(document.querySelectorAll("table.data tbody tr"))
      .filter(function (row) { return row.querySelector("a[href]"); });
  }
  function choose(rows, index) {
    rows.forEach(function (row) { row.classList.remove("is-current"); row.removeAttribute("aria-selected"); });
    var row = rows[index];
    row.classList.add("is-current");
    row.setAttribute("aria-selected", "true");
    row.scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (event) {
    var overlay = document.getElementById("shortcuts");
    if (!overlay || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && !overlay.hidden) { overlay.hidden = true; return; }
    if (typing(event)) return;
    if (event.key === "?") {
      if (overlay.hidden) listPageShortcuts(overlay);
      overlay.hidden = !overlay.hidden;
      event.preventDefault();
      return;
    }
    var rows = listRows();
    var current = rows.findIndex(function (row) { return row.classList.contains("is-current"); });
    if ((event.key === "j" || event.key === "k") && rows.length) {
      var next = event.key === "j" ? Math.min(current + 1, rows.length - 1) : Math.max(current - 1, 0);
      choose(rows, current < 0 ? 0 : next);
      event.preventDefault();
    } else if (event.key === "Enter" && current >= 0) {
      window.location.href = rows[current].querySelector("a[href]").href;
      event.preventDefault();
    } else if (event.key === "/") {
      // The list's own search first; on a page without one, the search across everything in the top bar.
      var search = document.querySelector("main input[type=search], main input[name=q]") ||
        document.getElementById("topbar-q");
      if (search) { search.focus(); event.preventDefault(); }
    } else {
      var action = actionFor(event.key);
      if (action) { use(action); event.preventDefault(); }
    }
  });

  // A role's main actions carry aria-keyshortcuts="<key>" (approve, reject, claim; reply, note, take, solve; the
  // decision's actions). In a list, a row's action answers for the chosen row only.
  function shortcutElements() {
    return Array.prototype.slice.call(document.querySelectorAll("main [aria-keyshortcuts]")).filter(function (el) {
      var row = el.closest("table.data tbody tr");
      return !el.disabled && !el.closest("[hidden]") && (!row || row.classList.contains("is-current"));
    });
  }
  function actionFor(key) {
    if (key.length !== 1) return null;
    return shortcutElements().find(function (el) { return el.getAttribute("aria-keyshortcuts") === key; }) || null;
  }
  function use(el) {
    if (el.tagName === "SUMMARY") {
      // Open the action and put the cursor in its first field (the reason), or on the action itself.
      el.parentElement.open = true;
      var field = el.parentElement.querySelector("textarea, select, input[type=text], input:not([type])");
      (field || el).focus();
    } else if (el instanceof HTMLInputElement && (el.type === "radio" || el.type === "checkbox")) {
      if (!el.checked) el.click();
      el.focus();
    } else if (el instanceof HTMLTextAreaElement || el instanceof HTMLInputElement || el instanceof HTMLSelectElement) {
      el.focus();
    } else {
      el.click();
    }
    var then = el.getAttribute("data-shortcut-focus");
    if (then && document.querySelector(then)) document.querySelector(then).focus();
  }
  function shortcutLabel(el) {
    if (el.hasAttribute("data-shortcut-label")) return el.getAttribute("data-shortcut-label");
    var source = el.labels && el.labels.length ? el.labels[0] : el;
    var copy = source.cloneNode(true);
    copy.querySelectorAll(".key-hint, input, select, textarea").forEach(function (part) { part.remove(); });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }
  // The overlay lists the action keys of the page as it is now (a ticket's actions change after each in-place post).
  function listPageShortcuts(overlay) {
    var list = overlay.querySelector("[data-page-shortcuts]");
    if (!list) return;
    list.innerHTML = "";
    var seen = {};
    Array.prototype.slice.call(document.querySelectorAll("main [aria-keyshortcuts]")).forEach(function (el) {
      var key = el.getAttribute("aria-keyshortcuts");
      if (seen[key] || el.closest("[hidden]")) return;
      seen[key] = true;
      var term = document.createElement("dt");
      var kbd = document.createElement("kbd");
      kbd.textContent = key;
      term.appendChild(kbd);
      var description = document.createElement("dd");
      description.textContent = shortcutLabel(el) + (el.closest("table.data tbody tr") ? " (the chosen row)" : "");
      list.appendChild(term);
      list.appendChild(description);
    });
    overlay.querySelector("[data-page-shortcuts-none]").hidden = list.children.length > 0;
  }
  // Every action key shows on its control: in the button, or beside the field's label.
  function showHints(root) {
    root.querySelectorAll("[aria-keyshortcuts]").forEach(function (el) {
      var host = el.labels && el.labels.length ? el.labels[0] : el;
      if (host.querySelector(".key-hint")) return;
      var hint = document.createElement("kbd");
      hint.className = "key-hint";
      hint.setAttribute("aria-hidden", "true");
      hint.textContent = el.getAttribute("aria-keyshortcuts");
      host.appendChild(hint);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { showHints(document); });
  document.addEventListener("saypro:swapped", function (event) { showHints(event.target); });
  document.addEventListener("click", function (event) {
    if (event.target instanceof Element && event.target.closest("[data-close-shortcuts]")) {
      document.getElementById("shortcuts").hidden = true;
    }
  });
})();

// Nothing typed is lost: what is typed into a staff form's text fields is kept in this browser (per page the form
// posts to, per field) and put back when the page opens again after a post that failed (a server error, a lost
// connection); it is forgotten once a post went through. The server keeps a rejected form's text itself.
(function () {
  "use strict";

  var PREFIX = "saypro-draft:";
  var PENDING = "saypro-draft-pending";
  var KEEP_DAYS = 7;
  var store;
  try {
    store = window.localStorage;
    store.setItem(PREFIX + "probe", "1");
    store.removeItem(PREFIX + "probe");
  } catch (error) {
    return; // Storage off (private mode, policy): the page works as before.
  }

  function draftForm(form) {
    return form instanceof HTMLFormElement && (form.getAttribute("method") || "").toLowerCase() === "post" &&
      !form.hasAttribute("data-no-draft") && form.closest("[data-drafts]") !== null;
  }
  function keptField(field) {
    if (!field.name || !field.form || !draftForm(field.form)) return false;
    if (field instanceof HTMLTextAreaElement) return true;
    return field instanceof HTMLInputElement && (field.type === "text" || field.type === "email");
  }
  // getAttribute, not form.action: a field named "action" (a decision's) would stand in for the property. Forms
  // that post to one address from one page (a form per row) tell themselves apart with data-draft-key.
  function keyOf(field) {
    var action = new URL(field.form.getAttribute("action") || window.location.href, window.location.href);
    var own = field.form.getAttribute("data-draft-key");
    return PREFIX + action.pathname + (own ? "@" + own : "") + "#" + field.name;
  }
  function fieldsOf(root) {
    return Array.prototype.slice.call(root.querySelectorAll("textarea, input")).filter(keptField);
  }
  function read(key) {
    try { return JSON.parse(store.getItem(key) || "null"); } catch (error) { return null; }
  }

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!keptField(field)) return;
    if (field.value.trim()) store.setItem(keyOf(field), JSON.stringify({ text: field.value, at: Date.now() }));
    else store.removeItem(keyOf(field));
  });

  // A post is remembered until the page after it says whether it went through.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!draftForm(form)) return;
    var keys = fieldsOf(form).map(keyOf);
    if (keys.length) window.sessionStorage.setItem(PENDING, JSON.stringify({ keys: keys, at: Date.now() }));
  });

  function takePending() {
    var pending = null;
    try { pending = JSON.parse(window.sessionStorage.getItem(PENDING) || "null"); } catch (error) { pending = null; }
    window.sessionStorage.removeItem(PENDING);
    return pending && Date.now() - pending.at < 10 * 60 * 1000 ? pending : null;
  }
  function forget(pending) {
    if (pending) pending.keys.forEach(function (key) { store.removeItem(key); });
  }
  // Went through: a staff page with no error on it that says so, or that the post was redirected to. A server
  // error page, a sign-in page (the session ended) or a page showing the form's errors keeps the text.
  function postWentThrough() {
    if (!document.querySelector("[data-drafts]")) return false;
    if (document.querySelector(".form-errors, .has-error, .messages .error, .errorlist")) return false;
    if (document.querySelector(".messages .success")) return true;
    var navigation = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
    return !!navigation && navigation.redirectCount > 0 && (navigation.responseStatus || 200) < 400;
  }

  function restore(root) {
    fieldsOf(root).forEach(function (field) {
      var draft = read(keyOf(field));
      if (!draft || !draft.text || draft.text === field.value) return;
      var shown = field.value;
      field.value = draft.text;
      var note = document.createElement("p");
      note.className = "draft-note";
      note.setAttribute("role", "status");
      note.setAttribute("data-testid", "draft-restored");
      note.textContent = "Restored what you typed here before; it has not been sent.";
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "btn btn-sm btn-ghost";
      discard.textContent = "Discard";
      discard.addEventListener("click", function () {
        field.value = shown;
        store.removeItem(keyOf(field));
        note.remove();
        field.focus();
      });
      note.appendChild(discard);
      field.insertAdjacentElement("afterend", note);
      var details = field.closest("details");
      if (details) details.open = true;
    });
  }

  function sweep() {
    var limit = Date.now() - KEEP_DAYS * 24 * 60 * 60 * 1000;
    for (var index = store.length - 1; index >= 0; index -= 1) {
      var key = store.key(index);
      if (key && key.indexOf(PREFIX) === 0) {
        var draft = read(key);
        if (!draft || draft.at < limit) store.removeItem(key);
      }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var pending = takePending();
    if (pending && postWentThrough()) forget(pending);
    sweep();
    restore(document);
  });
  // A form posted in place: a success answer forgets the text; a refusal comes back with the text in the form.
  document.addEventListener("saypro:swapped", function (event) {
    var pending = takePending();
    if (event.detail && event.detail.ok) forget(pending);
    restore(event.target);
  });
})();

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

  document.addEventListener("DOMContentLoaded", function () {
    updateCountdowns(document);
    window.setInterval(function () { updateCountdowns(document); }, 30 * 1000);
    document.querySelectorAll("[data-refresh-url]").forEach(startRefresh);
    document.querySelectorAll("form[data-bulk]").forEach(wireBulkSelection);
  });
})();

// Agent workspace: SLA countdowns that stay true, the reply-template picker, auto-submitting filters.
// Event listeners are delegated to the document so they keep working after htmx swaps content in.
(function () {
  "use strict";

  function formatDuration(seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days) return days + "d " + hours + "h";
    if (hours) return hours + "h " + (mins < 10 ? "0" : "") + mins + "m";
    return mins + "m";
  }

  function refreshCountdowns() {
    var now = Date.now();
    document.querySelectorAll(".sla[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var left = (due - now) / 1000;
      el.classList.remove("sla-ok", "sla-warn", "sla-breached");
      if (left <= 0) {
        el.classList.add("sla-breached");
        el.textContent = (el.getAttribute("data-overdue-label") || "overdue") + " " + formatDuration(left);
      } else {
        el.classList.add(left < 3600 ? "sla-warn" : "sla-ok");
        el.textContent = formatDuration(left);
      }
    });
  }

  // The queue's bulk bar: its controls work once tickets are selected; "select all" covers the page.
  function refreshBulk() {
    var form = document.querySelector("form[data-bulk]");
    if (!form) return;
    var rows = document.querySelectorAll("input[data-bulk-row]");
    var selected = document.querySelectorAll("input[data-bulk-row]:checked").length;
    form.querySelectorAll("[data-bulk-control]").forEach(function (control) {
      control.disabled = selected === 0;
    });
    var count = form.querySelector("[data-bulk-count]");
    if (count) {
      count.textContent = selected
        ? count.getAttribute("data-some").replace("{n}", selected)
        : count.getAttribute("data-none");
    }
    var all = document.querySelector("input[data-bulk-all]");
    if (all) {
      all.checked = rows.length > 0 && selected === rows.length;
      all.indeterminate = selected > 0 && selected < rows.length;
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("input[data-bulk-all]")) {
      document.querySelectorAll("input[data-bulk-row]").forEach(function (box) {
        box.checked = target.checked;
      });
      refreshBulk();
    } else if (target.matches("input[data-bulk-row]")) {
      refreshBulk();
    } else if (target.matches("select[data-fill]")) {
      var option = target.selectedOptions[0];
      var textarea = document.querySelector(target.getAttribute("data-fill"));
      if (option && option.dataset.body && textarea) {
        textarea.value = option.dataset.body;
        textarea.focus();
      }
      target.value = "";
    } else if (target.closest("form[data-autosubmit]") && target.name !== "q") {
      target.form.requestSubmit();
    }
  });

  // htmx does not swap error responses in; say so instead of failing silently.
  function reportRequestError() {
    window.alert(document.body.getAttribute("data-request-error") || "The request failed.");
  }
  document.addEventListener("htmx:responseError", reportRequestError);
  document.addEventListener("htmx:sendError", reportRequestError);

  document.addEventListener("DOMContentLoaded", refreshCountdowns);
  document.addEventListener("DOMContentLoaded", refreshBulk);
  document.addEventListener("htmx:afterSettle", refreshBulk);
  document.addEventListener("pageshow", refreshBulk);
  document.addEventListener("htmx:afterSettle", refreshCountdowns);
  document.addEventListener("htmx:historyRestore", refreshCountdowns);
  setInterval(refreshCountdowns, 30000);
})();

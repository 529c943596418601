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

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("select[data-fill]")) {
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

  // htmx does not swap error responses in; say so instead of failing silently. The presence
  // heartbeat is only a hint: a missed beat is retried 5 s later, never an alert.
  function reportRequestError(event) {
    if (event.detail && event.detail.elt && event.detail.elt.id === "presence") return;
    window.alert(document.body.getAttribute("data-request-error") || "The request failed.");
  }

  // Presence (tickets/presence.py): a keystroke in the reply marks the next beat "typing", and
  // the first keystroke after a beat sends one at once so colleagues see it within seconds.
  document.addEventListener("input", function (event) {
    var typing = document.getElementById("presence-typing");
    var presence = document.getElementById("presence");
    if (!typing || !presence || event.target.id !== "reply-body") return;
    if (typing.value !== "1") {
      typing.value = "1";
      var now = Date.now();
      if (now - lastTypingBeat > 4000) {
        lastTypingBeat = now;
        htmx.trigger(presence, "beat");
      }
    }
  });
  var lastTypingBeat = 0;
  document.addEventListener("htmx:afterRequest", function (event) {
    var typing = document.getElementById("presence-typing");
    if (typing && event.detail.elt && event.detail.elt.id === "presence") typing.value = "0";
  });
  // Leaving the page drops this viewer at once instead of after the roster's 15 s.
  window.addEventListener("pagehide", function () {
    var presence = document.getElementById("presence");
    if (!presence || !navigator.sendBeacon) return;
    var form = new FormData();
    form.append("leave", "1");
    form.append("csrfmiddlewaretoken", presence.getAttribute("data-csrf"));
    navigator.sendBeacon(presence.getAttribute("data-leave-url"), form);
  });
  document.addEventListener("htmx:responseError", reportRequestError);
  document.addEventListener("htmx:sendError", reportRequestError);

  document.addEventListener("DOMContentLoaded", refreshCountdowns);
  document.addEventListener("htmx:afterSettle", refreshCountdowns);
  document.addEventListener("htmx:historyRestore", refreshCountdowns);
  setInterval(refreshCountdowns, 30000);
})();

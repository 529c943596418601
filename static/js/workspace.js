// Agent workspace: SLA countdowns that stay true, the reply-template picker, auto-submitting filters,
// presence beats and keyboard shortcuts.
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
      // A macro (⚡) also acts when its reply is sent: remember which, and say what it will do.
      var macro = document.getElementById("reply-macro");
      var said = document.getElementById("macro-actions");
      if (macro && said && option) {
        macro.value = option.dataset.actions ? option.value : "";
        said.textContent = option.dataset.actions
          ? said.getAttribute("data-prefix") + " " + option.dataset.actions : "";
        said.hidden = !option.dataset.actions;
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

  // --- Keyboard shortcuts (listed in templates/partials/shortcuts.html; "?" shows them) -------
  var QUEUE_KEY = "aftersales.queue";  // the last queue page's ticket links, for j/k on a ticket
  var pendingG = false;

  function queueLinks() {
    return Array.prototype.slice.call(document.querySelectorAll("a.ticket-link"));
  }

  function rememberQueue() {
    var links = queueLinks();
    if (!links.length || !document.getElementById("queue-results")) return;
    try {
      sessionStorage.setItem(QUEUE_KEY, JSON.stringify(links.map(function (a) { return a.pathname; })));
    } catch (e) { /* private mode: j/k on a ticket page just does nothing */ }
  }

  function moveHighlight(step) {
    var rows = queueLinks().map(function (a) { return a.closest("tr"); });
    if (!rows.length) return;
    var current = rows.findIndex(function (row) { return row.classList.contains("kbd-current"); });
    var next = Math.min(rows.length - 1, Math.max(0, current + step));
    if (current >= 0) rows[current].classList.remove("kbd-current");
    rows[next].classList.add("kbd-current");
    rows[next].scrollIntoView({ block: "nearest" });
  }

  function neighbourTicket(step) {
    var list;
    try { list = JSON.parse(sessionStorage.getItem(QUEUE_KEY) || "[]"); } catch (e) { list = []; }
    var index = list.indexOf(window.location.pathname);
    if (index >= 0 && list[index + step]) window.location.assign(list[index + step]);
  }

  function startWriting(visibility) {
    var body = document.getElementById("reply-body");
    if (!body) return;
    var radio = document.querySelector("input[name=visibility][value=" + visibility + "]");
    if (radio) radio.checked = true;
    body.focus();
  }

  function toggleHelp() {
    var help = document.getElementById("shortcuts-help");
    if (!help) return;
    if (help.open) help.close(); else help.showModal();
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-open-shortcuts]")) toggleHelp();
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    var target = event.target;
    if (target.closest("input, textarea, select, [contenteditable]")) {
      if (event.key === "Escape") target.blur();
      return;
    }
    var help = document.getElementById("shortcuts-help");
    if (help && help.open && event.key !== "?") return;  // the dialog handles Esc itself
    var onQueue = !!document.getElementById("queue-results");
    var key = event.key;
    if (pendingG) {
      pendingG = false;
      if (key === "q") { window.location.assign("/"); event.preventDefault(); }
      return;
    }
    var handled = true;
    if (key === "?") toggleHelp();
    else if (key === "g") pendingG = true;
    else if (key === "j") onQueue ? moveHighlight(1) : neighbourTicket(1);
    else if (key === "k") onQueue ? moveHighlight(-1) : neighbourTicket(-1);
    else if ((key === "o" || key === "Enter") && onQueue) {
      var row = document.querySelector("tr.kbd-current a.ticket-link");
      if (row) window.location.assign(row.href); else handled = false;
    } else if (key === "/" && document.querySelector("input[type=search][name=q]")) {
      document.querySelector("input[type=search][name=q]").focus();
    } else if (key === "r") startWriting("public");
    else if (key === "n") startWriting("internal");
    else if (key === "a" && document.querySelector("[data-shortcut=assign-me]")) {
      document.querySelector("[data-shortcut=assign-me]").click();
    } else if (key === "e" && document.querySelector("button[name=action][value=resolve]")) {
      if (window.confirm(help ? help.getAttribute("data-confirm-resolve") : "Resolve?")) {
        document.querySelector("button[name=action][value=resolve]").click();
      }
    } else handled = false;
    if (handled) event.preventDefault();
  });

  // The live queue swaps its rows in place: the keyboard highlight stays on the same ticket.
  var highlighted = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "queue-rows") {
      var current = document.querySelector("tr.kbd-current a.ticket-link");
      highlighted = current ? current.getAttribute("href") : null;
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!highlighted) return;
    var link = document.querySelector('#queue-rows a.ticket-link[href="' + highlighted + '"]');
    if (link) link.closest("tr").classList.add("kbd-current");
    highlighted = null;
  });

  document.addEventListener("DOMContentLoaded", rememberQueue);
  document.addEventListener("htmx:afterSettle", rememberQueue);

  document.addEventListener("DOMContentLoaded", refreshCountdowns);
  document.addEventListener("DOMContentLoaded", refreshBulk);
  document.addEventListener("htmx:afterSettle", refreshBulk);
  document.addEventListener("pageshow", refreshBulk);
  document.addEventListener("htmx:afterSettle", refreshCountdowns);
  document.addEventListener("htmx:historyRestore", refreshCountdowns);
  setInterval(refreshCountdowns, 30000);
})();

// Keyboard shortcuts for reviewers: j/k next/previous, a approve, e edit, r reject, Enter open.
// Served from our own origin (the pages' Content-Security-Policy forbids inline script).
(function () {
  "use strict";

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr.qrow"));
  }

  function select(delta) {
    var all = rows();
    if (!all.length) return;
    var current = all.findIndex(function (r) { return r.classList.contains("selected"); });
    var next = Math.min(all.length - 1, Math.max(0, current < 0 ? 0 : current + delta));
    all.forEach(function (r) { r.classList.remove("selected"); });
    all[next].classList.add("selected");
    all[next].scrollIntoView({ block: "nearest" });
  }

  function follow(id) {
    var link = document.getElementById(id);
    if (link) window.location.assign(link.getAttribute("href"));
  }

  function approve() {
    var form = document.getElementById("approve-form");
    if (!form) return;
    var unchecked = form.querySelector("input[name=ack]:not(:checked)");
    if (unchecked) { unchecked.focus(); return; }  // every flag must be acknowledged first
    form.requestSubmit();
  }

  function edit() {
    var panel = document.getElementById("edit-panel");
    if (!panel) return;
    panel.open = true;
    var first = panel.querySelector("textarea");
    if (first) first.focus();
  }

  function reject() {
    var reason = document.getElementById("reason");
    if (reason) { reason.focus(); reason.scrollIntoView({ block: "center" }); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var onQueue = rows().length > 0;
    switch (event.key) {
      case "j": onQueue ? select(1) : follow("next"); break;
      case "k": onQueue ? select(-1) : follow("prev"); break;
      case "Enter": {
        var chosen = document.querySelector("tr.qrow.selected");
        if (chosen) window.location.assign(chosen.getAttribute("data-href"));
        return;
      }
      case "a": approve(); break;
      case "e": edit(); break;
      case "r": reject(); break;
      default: return;
    }
    event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("tr.qrow");
    if (row && !event.target.closest("a")) window.location.assign(row.getAttribute("data-href"));
  });
})();

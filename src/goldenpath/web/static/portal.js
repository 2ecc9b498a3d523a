// Golden Path portal: progressive enhancement only; every page works without this file.
// 1. form fields that apply only under a condition are shown and hidden as the form changes;
// 2. the browser's validation messages are shown next to their field, not in a bubble;
// 3. a request's page follows its progress through Server-Sent Events;
// 4. a resource being created or destroyed is reloaded until it settles.
"use strict";

(function () {
  function fieldValue(form, name) {
    var inputs = form.querySelectorAll('[name="' + CSS.escape(name) + '"]');
    if (!inputs.length) return null;
    var first = inputs[0];
    if (first.type === "checkbox" && inputs.length === 1) {
      return first.disabled ? "" : first.checked ? "true" : "false";
    }
    if (first.type === "radio" || first.type === "checkbox") {
      var checked = Array.prototype.filter.call(inputs, function (i) { return i.checked && !i.disabled; });
      return checked.length ? checked[0].value : "";
    }
    return first.disabled ? "" : first.value;
  }

  function holds(form, condition) {
    return condition.all.every(function (clause) {
      var value = fieldValue(form, clause.field);
      var result = clause.filled
        ? value !== null && value !== "" && value !== "false"
        : value !== null && clause.in.indexOf(value) >= 0;
      return clause.not ? !result : result;
    });
  }

  function applyConditions(form) {
    // Twice: a field shown by another conditional field settles on the second pass.
    for (var pass = 0; pass < 2; pass++) {
      form.querySelectorAll("[data-show-when]").forEach(function (box) {
        var conditions = JSON.parse(box.getAttribute("data-show-when"));
        var show = conditions.some(function (c) { return holds(form, c); });
        box.hidden = !show;
        box.querySelectorAll("input, select, textarea").forEach(function (input) {
          input.disabled = !show;  // a hidden field is not sent
          if (box.hasAttribute("data-required") && input.type !== "checkbox") input.required = show;
        });
      });
    }
  }

  function clearClientError(input) {
    var box = input.closest(".field");
    if (!box) return;
    box.querySelectorAll(".field-error.client").forEach(function (p) { p.remove(); });
    if (!box.querySelector(".field-error")) box.classList.remove("has-error");
    input.removeAttribute("aria-invalid");
  }

  function showClientError(input) {
    var box = input.closest(".field");
    if (!box) return;
    clearClientError(input);
    var message = input.validity.patternMismatch && input.title ? input.title : input.validationMessage;
    var note = document.createElement("p");
    note.className = "field-error client";
    note.id = input.name + "-client-error";
    note.textContent = "⚠ " + message;
    box.appendChild(note);
    box.classList.add("has-error");
    input.setAttribute("aria-invalid", "true");
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (described.indexOf(note.id) < 0) described.push(note.id);
    input.setAttribute("aria-describedby", described.join(" "));
  }

  function enhanceForm(form) {
    var focused = false;
    applyConditions(form);
    form.addEventListener("change", function () { applyConditions(form); });
    form.addEventListener("input", function (event) {
      if (event.target.validity && event.target.validity.valid) clearClientError(event.target);
    });
    form.addEventListener("invalid", function (event) {
      event.preventDefault();
      showClientError(event.target);
      if (!focused) { event.target.focus(); focused = true; }
    }, true);
    form.addEventListener("click", function (event) {
      if (event.target.type === "submit") focused = false;
    });
  }

  function badge(status) {
    var span = document.createElement("span");
    span.className = "badge s-" + status;
    span.setAttribute("data-status", status);
    span.textContent = status.replace(/_/g, " ");
    return span;
  }

  function followRequest(detail) {
    var url = detail.getAttribute("data-events-url");
    if (!url || !window.EventSource) return;
    var events = new EventSource(url);
    events.addEventListener("step", function (event) {
      var step = JSON.parse(event.data);
      var row = detail.querySelector('[data-step="' + CSS.escape(step.id) + '"]');
      if (!row) return;
      row.querySelector(".step-status").replaceChildren(badge(step.status));
      row.setAttribute("data-live", "true");
      if (step.duration_seconds !== null) {
        row.querySelector(".step-time").textContent = step.duration_seconds.toFixed(1) + " s";
      }
    });
    events.addEventListener("log", function (event) {
      var line = JSON.parse(event.data);
      var log = detail.querySelector("#log");
      if (!log || log.querySelector('[data-log="' + line.id + '"]')) return;
      var empty = log.querySelector(".empty-log");
      if (empty) empty.remove();
      var item = document.createElement("li");
      item.className = "l-" + line.level;
      item.setAttribute("data-log", line.id);
      item.textContent = line.at.slice(11, 19) + " " + line.step + " " + line.message;
      log.appendChild(item);
      log.scrollTop = log.scrollHeight;
    });
    events.addEventListener("status", function (event) {
      var status = JSON.parse(event.data).status;
      detail.querySelector("#request-status").replaceChildren(badge(status));
    });
    events.addEventListener("end", function () {
      events.close();
      // The outputs and the secrets button come with the page: fetch it, swap it in.
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("request-detail");
          if (fresh) { detail.replaceWith(fresh); document.dispatchEvent(new Event("gp:request-updated")); }
        });
    });
    events.onerror = function () {
      if (events.readyState === EventSource.CLOSED) setTimeout(function () { window.location.reload(); }, 3000);
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(enhanceForm);
    var summary = document.getElementById("form-errors");
    if (summary) summary.focus();  // a screen reader hears what was refused first
    var detail = document.getElementById("request-detail");
    if (detail) followRequest(detail);
    var settling = document.querySelector("[data-refresh]");
    if (settling) {
      setTimeout(function () { window.location.reload(); }, 1000 * Number(settling.getAttribute("data-refresh")));
    }
  });
})();

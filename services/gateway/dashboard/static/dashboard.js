// Live parts of the dashboard, without any library: pages work without it, it only refreshes.
(function () {
  "use strict";

  function replaceFragments(root, fragments) {
    Object.keys(fragments || {}).forEach(function (name) {
      root.querySelectorAll('[data-fragment="' + name + '"]').forEach(function (node) {
        node.innerHTML = fragments[name];
      });
    });
  }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; });
  }

  // <div data-live-url="/jobs/x/live" data-reload-when-done>: poll, swap fragments, stop when done.
  function followLive(node) {
    var url = node.getAttribute("data-live-url");
    var every = parseInt(node.getAttribute("data-interval") || "2000", 10);
    function tick() {
      getJson(url).then(function (body) {
        if (!body) { setTimeout(tick, every * 2); return; }
        replaceFragments(node, body.fragments);
        if (body.done) {
          if (node.hasAttribute("data-reload-when-done")) { window.location.reload(); }
          return;
        }
        setTimeout(tick, every);
      }).catch(function () { setTimeout(tick, every * 2); });
    }
    setTimeout(tick, every);
  }

  // <form data-preview-url="/fine-tune/counts">: re-ask the server as the user changes the form.
  function previewForm(form) {
    var url = form.getAttribute("data-preview-url");
    var timer = null;
    function refresh() {
      var query = new URLSearchParams(new FormData(form)).toString();
      getJson(url + "?" + query).then(function (body) {
        if (body) { replaceFragments(form, body.fragments); }
      });
    }
    ["input", "change"].forEach(function (kind) {
      form.addEventListener(kind, function (event) {
        if (event.target && event.target.type === "file") { return; }
        clearTimeout(timer);
        timer = setTimeout(refresh, 350);
      });
    });
  }

  // <input type="range" data-output="id" data-suffix=" %">: show the slider's value.
  function showValue(input) {
    var output = document.getElementById(input.getAttribute("data-output"));
    var suffix = input.getAttribute("data-suffix") || "";
    function update() { output.textContent = input.value + suffix; }
    input.addEventListener("input", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live-url]").forEach(followLive);
    document.querySelectorAll("form[data-preview-url]").forEach(previewForm);
    document.querySelectorAll("input[type=range][data-output]").forEach(showValue);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    var reload = document.querySelector("[data-live-reload]");
    if (reload) {
      var wait = parseInt(reload.getAttribute("data-live-reload"), 10);
      var busy = function () {
        var typed = Array.prototype.some.call(
          document.querySelectorAll("input[type=text], input:not([type]), textarea"),
          function (field) { return field.value !== field.defaultValue; });
        var active = document.activeElement;
        return typed || (active && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName));
      };
      var later = function () {
        if (busy()) { setTimeout(later, wait); return; }
        var url = new URL(window.location.href);
        url.searchParams.delete("notice");  // a one-time message, not to repeat on refresh
        window.location.replace(url.toString());
      };
      setTimeout(later, wait);
    }
  });
})();

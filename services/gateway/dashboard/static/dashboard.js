// Live parts of the dashboard, without any library: pages work without it, it only refreshes
// them (following server-sent events, or asking again every few seconds where those fail).
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

  // Run task() (which returns a promise) now, or once more after the run in flight ends:
  // a burst of events costs one request in flight and one after it, never more.
  function coalesced(task) {
    var running = false;
    var again = false;
    function run() {
      if (running) { again = true; return; }
      running = true;
      Promise.resolve().then(task).catch(function () { return null; }).then(function () {
        running = false;
        if (again) { again = false; run(); }
      });
    }
    return run;
  }

  function bump(node, name) {
    node.setAttribute(name, String(parseInt(node.getAttribute(name) || "0", 10) + 1));
  }

  var STREAM_PATIENCE_MS = 10000;

  // <div data-live-stream="/jobs/x/stream">: server-sent events (EventSource). onEvent(null)
  // when the stream is (re)connected, so the page catches up; onEvent(event) for each event.
  // When the stream cannot be used (no EventSource, an error answer, nothing within 10 s),
  // fallback() runs once instead. Lost connections are resumed by the browser, which sends
  // Last-Event-ID so no event is missed. data-live-mode says which is in use ("stream" or
  // "poll"). Returns stop().
  function followStream(node, onEvent, fallback) {
    var url = node.getAttribute("data-live-stream");
    if (!url || typeof window.EventSource !== "function") {
      node.setAttribute("data-live-mode", "poll");
      fallback();
      return function () {};
    }
    var source = new EventSource(url);
    var opened = false;
    var gaveUp = false;
    function giveUp() {
      if (gaveUp) { return; }
      gaveUp = true;
      source.close();
      node.setAttribute("data-live-mode", "poll");
      fallback();
    }
    var patience = setTimeout(function () { if (!opened) { giveUp(); } }, STREAM_PATIENCE_MS);
    source.addEventListener("ready", function () {
      opened = true;
      clearTimeout(patience);
      node.setAttribute("data-live-mode", "stream");
      onEvent(null);
    });
    source.addEventListener("update", function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (error) { return; }
      bump(node, "data-live-events");
      onEvent(event);
    });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) { giveUp(); }
    });
    window.addEventListener("pagehide", function () { source.close(); });
    return function () {
      gaveUp = true;
      clearTimeout(patience);
      source.close();
    };
  }

  function withoutNotice() {
    var url = new URL(window.location.href);
    url.searchParams.delete("notice");  // a one-time message, not to repeat on refresh
    return url.toString();
  }

  function streamsOf(root) {
    return Array.prototype.map.call(root.querySelectorAll("[data-live-stream]"), function (n) {
      return n.getAttribute("data-live-stream");
    });
  }

  // Ask `refresh` again every `every` ms (twice that after a failure): the fallback.
  function poll(refresh, every) {
    function tick() {
      refresh().then(function (ok) {
        if (ok !== "stop") { setTimeout(tick, ok ? every : every * 2); }
      }).catch(function () { setTimeout(tick, every * 2); });
    }
    setTimeout(tick, every);
  }

  // <div data-live-url="/jobs/x/live" data-live-stream="/jobs/x/stream" data-reload-when-done>:
  // swap the job's fragments when it has news; reload the page once the job is done.
  function followJob(node) {
    var url = node.getAttribute("data-live-url");
    var every = parseInt(node.getAttribute("data-interval") || "2000", 10);
    var done = false;
    function refresh() {
      if (done) { return Promise.resolve("stop"); }
      return getJson(url).then(function (body) {
        if (!body) { return false; }
        replaceFragments(node, body.fragments);
        bump(node, "data-live-refreshes");
        if (body.done) {
          done = true;
          if (node.hasAttribute("data-reload-when-done")) { window.location.reload(); }
          return "stop";
        }
        return true;
      });
    }
    followStream(node, coalesced(refresh), function () { poll(refresh, every); });
  }

  // <div data-live-stream="/experiments/x/stream" data-live-page>: on news, render this page
  // again in the background and swap every [data-fragment] of it (forms are left alone).
  // Once the fresh page no longer follows this stream (what it waited for happened), stop
  // and mark the node data-live-done; with data-reload-when-done, load the page again
  // instead (its forms are new ones).
  function followPage(node) {
    var every = parseInt(node.getAttribute("data-interval") || "5000", 10);
    var url = node.getAttribute("data-live-stream");
    var stop = function () {};
    var finished = false;
    function refresh() {
      if (finished) { return Promise.resolve("stop"); }
      return fetch(window.location.href, {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      }).then(function (response) {
        if (!response.ok) { return false; }
        return response.text().then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html");
          document.querySelectorAll("[data-fragment]").forEach(function (part) {
            var name = part.getAttribute("data-fragment");
            var replacement = fresh.querySelector('[data-fragment="' + name + '"]');
            if (replacement && replacement.innerHTML !== part.innerHTML) {
              part.innerHTML = replacement.innerHTML;
            }
          });
          bump(node, "data-live-refreshes");
          if (streamsOf(fresh).indexOf(url) === -1) {
            finished = true;
            stop();
            if (node.hasAttribute("data-reload-when-done")) {
              window.location.replace(withoutNotice());
            } else {
              node.setAttribute("data-live-done", "");
            }
            return "stop";
          }
          return true;
        });
      });
    }
    stop = followStream(node, coalesced(refresh), function () { poll(refresh, every); });
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
    document.querySelectorAll("[data-live-url]").forEach(followJob);
    document.querySelectorAll("[data-live-stream][data-live-page]").forEach(followPage);
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
        window.location.replace(withoutNotice());
      };
      setTimeout(later, wait);
    }
  });
})();

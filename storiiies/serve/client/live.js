// `storiiies serve` only: reload this page when a rebuild changed it, show the build's problems
// over it, and load the region picker on tour pages. Never part of a built site.
(function () {
  "use strict";
  var script = document.currentScript;
  var token = script.getAttribute("data-version") || "";
  var root = new URL("../", script.src).href; // this script lives at ROOT/_storiiies/live.js
  var page = pageKey();
  var errorPage = document.documentElement.hasAttribute("data-storiiies-error");
  var source = null;
  var problems = [];
  var overlay = null;
  var open = null; // the author's choice to fold or unfold the list; null = automatic

  // The story slug of this page ("" for the home page), as the server names changed pages.
  function pageKey() {
    var here = location.href.split("#")[0].split("?")[0];
    if (here.indexOf(root) !== 0) return "";
    var rest = here.slice(root.length);
    var slash = rest.indexOf("/");
    return slash > 0 ? decodeURIComponent(rest.slice(0, slash)) : "";
  }

  function connect() {
    if (source) return;
    source = new EventSource(root + "_storiiies/events?since=" + encodeURIComponent(token));
    source.onmessage = function (event) { receive(JSON.parse(event.data)); };
  }

  function disconnect() {
    if (source) source.close();
    source = null;
  }

  function receive(message) {
    var moved = message.token !== token;
    token = message.token;
    if (moved && (errorPage || message.pages === null || message.pages.indexOf(page) >= 0)) {
      // The URL keeps `#step-N`, so the reloaded tour opens on the step that was shown.
      disconnect();
      location.reload();
      return;
    }
    if (message.css) refreshStylesheets();
    if (message.errors || message.warnings) loadProblems();
    else show([]);
  }

  function loadProblems() {
    fetch(root + "_storiiies/problems.json", { cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (data) { show(data.problems); })
      .catch(function () { /* the server is restarting: the next message retries */ });
  }

  // Theme stylesheets changed and nothing else: swap them in place, keeping the viewer's view.
  function refreshStylesheets() {
    Array.prototype.forEach.call(document.querySelectorAll('link[rel="stylesheet"]'), function (link) {
      if (link.href.indexOf(root) !== 0 || link.href.indexOf("/_storiiies/") >= 0) return;
      var fresh = link.cloneNode();
      fresh.href = link.href.replace(/([?&])v=\d+&?/, "$1").replace(/[?&]$/, "") +
        (link.href.indexOf("?") >= 0 ? "&" : "?") + "v=" + Date.now();
      fresh.onload = function () { link.remove(); };
      link.after(fresh);
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function show(list) {
    problems = list;
    if (errorPage) return; // the error page lists them itself
    if (!list.length) {
      if (overlay) overlay.remove();
      overlay = null;
      open = null;
      return;
    }
    var errors = list.filter(function (p) { return p.severity === "error"; }).length;
    var warnings = list.length - errors;
    if (!overlay) {
      overlay = element("aside", "sts-overlay");
      overlay.setAttribute("role", errors ? "alert" : "status");
      overlay.setAttribute("aria-label", "Build problems");
      document.body.appendChild(overlay);
    }
    overlay.textContent = "";
    overlay.classList.toggle("sts-has-errors", errors > 0);
    var unfolded = open === null ? errors > 0 : open;
    var summary = [];
    if (errors) summary.push(errors + " error" + (errors === 1 ? "" : "s"));
    if (warnings) summary.push(warnings + " warning" + (warnings === 1 ? "" : "s"));
    var head = element("div", "sts-overlay-head");
    var title = element("strong", "sts-overlay-title",
      (errors ? "✗ " : "⚠ ") + summary.join(", ") +
      (errors ? " — the preview shows the last good version" : ""));
    var toggle = element("button", "sts-overlay-toggle", unfolded ? "Hide" : "Show");
    toggle.type = "button";
    toggle.setAttribute("aria-expanded", String(unfolded));
    toggle.addEventListener("click", function () { open = !unfolded; show(problems); });
    head.appendChild(title);
    head.appendChild(toggle);
    overlay.appendChild(head);
    if (!unfolded) return;
    var items = element("ol", "sts-problems");
    list.forEach(function (problem) {
      var item = element("li", "sts-problem sts-" + problem.severity);
      item.appendChild(element("code", "sts-where", problem.location));
      item.appendChild(element("span", "sts-message", " " + problem.severity + ": " + problem.message));
      if (problem.source !== null && problem.source !== undefined) {
        item.appendChild(element("pre", "sts-source", problem.source));
      }
      if (problem.hint) item.appendChild(element("p", "sts-hint", problem.hint));
      items.appendChild(item);
    });
    overlay.appendChild(items);
  }

  var style = element("link");
  style.rel = "stylesheet";
  style.href = root + "_storiiies/preview.css";
  document.head.appendChild(style);

  // Hidden tabs let go of the server; coming back asks at once whether the page is stale.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") disconnect(); else connect();
  });
  window.addEventListener("pagehide", disconnect);
  if (document.visibilityState !== "hidden") connect();

  if (document.getElementById("story-data")) {
    var picker = element("script");
    picker.src = root + "_storiiies/picker.js";
    picker.defer = true;
    document.head.appendChild(picker);
  }

  // With `serve --edit`, every page of the preview (but not the editor's own frame) links to it.
  if (window.top === window.self) {
    fetch(root + "_storiiies/edit/status.json", { cache: "no-store" }).then(function (response) {
      if (!response.ok) return;
      var link = element("a", "sts-edit-link", "Edit stories");
      link.href = root + "_storiiies/edit/";
      document.body.appendChild(link);
    }).catch(function () { /* no editor */ });
  }

  // `storiiies.preview` (see the theme's common.js); an error page has no other script.
  window.storiiies = window.storiiies || {};
  window.storiiies.preview = {
    root: root,
    page: page,
    get token() { return token; },
    get problems() { return problems; },
    get connected() { return source !== null && source.readyState === 1; }
  };
})();

// The guided tour: steps beside OpenSeadragon viewers. Plain JS, no framework.
// Each step's region is fitted into view; `#step-N` deep-links a step and the back button
// walks back through steps. `window.storiiies` exposes the state for embedding and tests.
(function () {
  "use strict";
  var dataElement = document.getElementById("story-data");
  if (!dataElement || !window.OpenSeadragon) return;
  var story = JSON.parse(dataElement.textContent);
  var root = document.documentElement;
  root.classList.add("st-js");

  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var container = document.querySelector(".st-viewers");
  var live = document.querySelector(".st-live");
  var altText = document.getElementById("st-region-alt");
  var sections = Array.prototype.slice.call(document.querySelectorAll(".st-step"));
  var counter = document.querySelector(".st-current");
  var panels = []; // {viewer, element, canvasKey, region}
  var current = -1;
  var syncing = false;
  var infoCache = {};

  function tileSourceFor(image) {
    var source = image.source;
    if (source.kind === "image") return Promise.resolve({ type: "image", url: source.url });
    if (source.kind === "iiif") return Promise.resolve(source.info);
    // Local level-0 images: the info.json id points at the configured base_url; rewrite it
    // to wherever this site is served from.
    var url = new URL(source.info, new URL("../", document.baseURI)).href;
    if (!infoCache[url]) {
      infoCache[url] = fetch(url).then(function (response) { return response.json(); }).then(function (info) {
        var id = url.replace(/\/info\.json$/, "");
        if (info["@id"]) info["@id"] = id; else info.id = id;
        return info;
      });
    }
    return infoCache[url];
  }

  function makePanel() {
    var element = document.createElement("div");
    element.className = "st-viewer";
    element.id = "st-viewer-" + panels.length;
    container.appendChild(element);
    var viewer = OpenSeadragon({
      element: element,
      showNavigationControl: false,
      animationTime: reduceMotion ? 0 : 1.2,
      springStiffness: reduceMotion ? 100 : 6.5,
      maxZoomPixelRatio: 2,
      visibilityRatio: 0.5,
      minZoomImageRatio: 0.5,
      crossOriginPolicy: "Anonymous",
      gestureSettingsTouch: { pinchRotate: false },
      keyboardNavEnabled: false
    });
    var panel = { viewer: viewer, element: element, canvasKey: null, region: null, opened: null, userDriving: false };
    // Only the reader's own pans and zooms are mirrored, never the fly-to of a step.
    ["canvas-drag", "canvas-scroll", "canvas-pinch", "canvas-double-click"].forEach(function (name) {
      viewer.addHandler(name, function () { panel.userDriving = true; });
    });
    viewer.addHandler("viewport-change", function () { if (!syncing && panel.userDriving) followLeader(panel); });
    // A panel that changes size (window resize, a second panel appearing, rotation) refits
    // its region at once, unless the reader has moved the view themselves.
    // OpenSeadragon restores its own zoom right after this event, so refit on the next frame.
    viewer.addHandler("resize", function () {
      requestAnimationFrame(function () {
        if (panel.view && !panel.userDriving) {
          panel.viewer.viewport.fitBoundsWithConstraints(rectFor(panel.view.canvas, panel.view.region), true);
        }
      });
    });
    viewer.addHandler("animation-finish", function () { element.setAttribute("data-settled", "true"); });
    viewer.addHandler("animation-start", function () { element.setAttribute("data-settled", "false"); });
    panels.push(panel);
    return panel;
  }

  function openCanvas(panel, key) {
    if (panel.canvasKey === key && panel.opened) return panel.opened;
    var canvas = story.canvases[key];
    panel.canvasKey = key;
    panel.viewer.world.removeAll();
    panel.opened = Promise.all(canvas.images.map(tileSourceFor)).then(function (sources) {
      return Promise.all(sources.map(function (tileSource, i) {
        var place = canvas.images[i].place;
        return new Promise(function (resolve) {
          panel.viewer.addTiledImage({
            tileSource: tileSource,
            x: place[0] / canvas.width,
            y: place[1] / canvas.width,
            width: place[2] / canvas.width,
            success: resolve,
            error: function (event) {
              panel.element.setAttribute("data-error", event.message || "image failed to load");
              resolve();
            }
          });
        });
      }));
    });
    return panel.opened;
  }

  function rectFor(key, region) {
    var canvas = story.canvases[key];
    var r = region || [0, 0, canvas.width, canvas.height];
    return new OpenSeadragon.Rect(r[0] / canvas.width, r[1] / canvas.width, r[2] / canvas.width, r[3] / canvas.width);
  }

  function fit(panel, view, immediate) {
    panel.region = view.region;
    panel.view = view;
    panel.userDriving = false;
    panel.element.setAttribute("data-settled", "false");
    return openCanvas(panel, view.canvas).then(function () {
      syncing = true;
      panel.viewer.viewport.fitBoundsWithConstraints(rectFor(view.canvas, view.region), immediate || reduceMotion);
      syncing = false;
      if (immediate || reduceMotion) panel.element.setAttribute("data-settled", "true");
    });
  }

  // Comparison steps: a pan or zoom in one panel moves the others the same way relative to
  // their own regions, so details stay side by side.
  function followLeader(leader) {
    if (panels.length < 2 || !leader.canvasKey || current < 0) return;
    var views = story.steps[current].views;
    var leaderIndex = panels.indexOf(leader);
    if (leaderIndex >= views.length) return;
    var from = rectFor(leader.canvasKey, leader.region);
    var bounds = leader.viewer.viewport.getBounds();
    syncing = true;
    panels.forEach(function (panel, i) {
      if (panel === leader || i >= views.length || !panel.canvasKey) return;
      var to = rectFor(panel.canvasKey, panel.region);
      var scale = to.width / from.width;
      panel.viewer.viewport.fitBounds(new OpenSeadragon.Rect(
        to.x + (bounds.x - from.x) * scale, to.y + (bounds.y - from.y) * scale,
        bounds.width * scale, bounds.height * scale), true);
    });
    syncing = false;
  }

  function nextFrame() {
    return new Promise(function (resolve) { requestAnimationFrame(function () { resolve(); }); });
  }

  function showViews(views, immediate) {
    while (panels.length < views.length) makePanel();
    container.setAttribute("data-count", String(views.length));
    panels.forEach(function (panel, i) { panel.element.hidden = i >= views.length; });
    // A panel that was hidden has to learn its new size before it can fit a region.
    panels.forEach(function (panel) { if (!panel.element.hidden) panel.viewer.forceResize(); });
    altText.textContent = views.map(function (view) { return view.alt; }).join(" / ");
    // Let the layout settle and OpenSeadragon measure the panels before fitting regions.
    return nextFrame().then(nextFrame).then(function () {
      return Promise.all(views.map(function (view, i) { return fit(panels[i], view, immediate); }));
    });
  }

  function go(number, options) {
    options = options || {};
    number = Math.max(0, Math.min(story.steps.length - 1, number));
    var step = story.steps[number];
    var first = current < 0;
    current = number;
    sections.forEach(function (section) {
      var active = Number(section.getAttribute("data-step")) === number;
      section.hidden = !active;
      section.classList.toggle("st-active", active);
    });
    counter.textContent = String(number);
    document.querySelector(".st-prev").disabled = number === 0;
    document.querySelector(".st-next").disabled = number === story.steps.length - 1;
    document.body.setAttribute("data-step", String(number));
    if (!first) live.textContent = "Step " + number + " of " + (story.steps.length - 1) + ": " + step.title;
    if (options.history !== false) {
      var hash = "#step-" + number;
      if (location.hash !== hash) history.pushState({ step: number }, "", hash);
    }
    if (options.focus) {
      var heading = sections[number] && sections[number].querySelector("h1, h2");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus({ preventScroll: true }); }
    }
    var done = step.views.length ? showViews(step.views, first) : Promise.resolve();
    window.dispatchEvent(new CustomEvent("storiiies:step", { detail: { step: number, title: step.title } }));
    return done;
  }

  function stepFromHash() {
    var match = /^#step-(\d+)$/.exec(location.hash);
    return match ? Number(match[1]) : 0;
  }

  document.querySelector(".st-prev").addEventListener("click", function () { go(current - 1); });
  document.querySelector(".st-next").addEventListener("click", function () { go(current + 1); });
  document.querySelector(".st-zoom-in").addEventListener("click", function () { zoomBy(1.5); });
  document.querySelector(".st-zoom-out").addEventListener("click", function () { zoomBy(1 / 1.5); });
  document.querySelector(".st-zoom-reset").addEventListener("click", function () { go(current, { history: false }); });
  window.addEventListener("popstate", function () { go(stepFromHash(), { history: false }); });
  window.addEventListener("hashchange", function () {
    if (stepFromHash() !== current) go(stepFromHash(), { history: false, focus: true });
  });

  function zoomBy(factor) {
    panels.forEach(function (panel) {
      if (!panel.element.hidden) { panel.userDriving = false; panel.viewer.viewport.zoomBy(factor); }
    });
  }

  // In-step links move the view to another region without leaving the step.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.st-region-link");
    if (!link) return;
    event.preventDefault();
    var view = story.steps[current].links[Number(link.getAttribute("data-storiiies-link"))];
    if (view) showViews([view], false);
  });

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    var handled = true;
    switch (event.key) {
      case "ArrowRight": case "ArrowDown": case "PageDown": go(current + 1); break;
      case "ArrowLeft": case "ArrowUp": case "PageUp": go(current - 1); break;
      case "Home": go(0); break;
      case "End": go(story.steps.length - 1); break;
      case "+": case "=": zoomBy(1.5); break;
      case "-": case "_": zoomBy(1 / 1.5); break;
      case "0": go(current, { history: false }); break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  // Swipe between steps on the text panel (the viewer keeps its own pinch and pan).
  var touchStart = null;
  var panel = document.querySelector(".st-panel");
  panel.addEventListener("touchstart", function (event) {
    if (event.touches.length === 1) touchStart = { x: event.touches[0].clientX, y: event.touches[0].clientY };
  }, { passive: true });
  panel.addEventListener("touchend", function (event) {
    if (!touchStart) return;
    var dx = event.changedTouches[0].clientX - touchStart.x;
    var dy = event.changedTouches[0].clientY - touchStart.y;
    touchStart = null;
    if (Math.abs(dx) > 60 && Math.abs(dx) > 2 * Math.abs(dy)) go(current + (dx < 0 ? 1 : -1));
  }, { passive: true });

  var ready = go(stepFromHash(), { history: false });
  if (!/^#step-\d+$/.test(location.hash)) history.replaceState({ step: current }, "", location.href);
  window.storiiies = {
    story: story,
    go: go,
    ready: ready,
    get current() { return current; },
    get panels() { return panels; }
  };
})();

// The guided tour: steps beside OpenSeadragon viewers. Plain JS, no framework.
// Each step's region is fitted into view; `#step-N` deep-links a step and the back button
// walks back through steps. It adds the tour to `window.storiiies` (the contract is in
// common.js) for embedding, kiosk.js and tests; every step change is also a `storiiies:step` window event and, inside an iframe, a
// postMessage to the host page (see docs/embedding.md).
// The OpenSeadragon viewers never leave this file: `storiiies.views()` reports each one's state
// as plain data, and `storiiies.fitRegion()` is the one move other scripts may ask for.
// Each viewer's element carries `data-settled`: "false" from the moment a step (or a region
// link) asks for a move until the view is at its region, "true" once it is there and still.
// A resize sets it to "false" until the region has been refitted on the next frame (or kept,
// when the reader has zoomed). Tests wait on it rather than on a clock.
(function () {
  "use strict";
  var dataElement = document.getElementById("story-data");
  if (!dataElement || !window.OpenSeadragon || !window.storiiies) return;
  var story = JSON.parse(dataElement.textContent);
  // The site's root, from this file's own address (assets/storiiies/tour.js): a translation's
  // pages sit one folder deeper than their story's (`coins/fr/`).
  var siteRoot = document.currentScript ? new URL("../../", document.currentScript.src) : new URL("../", document.baseURI);
  var strings = JSON.parse(document.getElementById("st-strings").textContent);
  var root = document.documentElement;
  root.classList.add("st-js");
  var rtl = getComputedStyle(root).direction === "rtl";

  var motionQuery = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : null;
  var reduceMotion = !!(motionQuery && motionQuery.matches);
  var container = document.querySelector(".st-viewers");
  var live = document.querySelector(".st-live");
  var altText = document.getElementById("st-region-alt");
  var sections = Array.prototype.slice.call(document.querySelectorAll(".st-step"));
  var tocLinks = Array.prototype.slice.call(document.querySelectorAll(".st-toc a[data-step]"));
  // The language switch (translations.py) opens the other language at the step shown here.
  var languageLinks = Array.prototype.slice.call(document.querySelectorAll(".st-languages a[hreflang]"));
  var counter = document.querySelector(".st-current");
  // The title slide is not a step: the step list reads "Title" there, not "Step 0 of N".
  var progressTitle = document.querySelector(".st-progress-title");
  var progressStep = document.querySelector(".st-progress-step");
  var progressBar = document.querySelector(".st-progress-bar span");
  var prevButton = document.querySelector(".st-prev");
  var nextButton = document.querySelector(".st-next");
  var lastStep = story.steps.length - 1;
  var panels = []; // {viewer, element, canvasKey, region, view, userDriving, readerZoomed}
  var current = -1;
  var syncing = false;
  var infoCache = {};

  var fill = window.storiiies.util.fill;
  function say(message) { window.storiiies.util.say(live, message); }

  function tileSourceFor(image) {
    var source = image.source;
    if (source.kind === "image") return Promise.resolve({ type: "image", url: source.url });
    if (source.kind === "iiif") return Promise.resolve(source.info);
    // Local level-0 images: the info.json id points at the configured base_url; rewrite it
    // to wherever this site is served from, so one build works under any host and path.
    var url = new URL(source.info, siteRoot).href;
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
      keyboardNavEnabled: false,
      // The 2D canvas drawer, not OpenSeadragon 6's default WebGL one: a view of a tour holds
      // a few dozen tiles, and starting WebGL (probing for support, compiling shaders,
      // uploading textures) held the first tile back by 0.5-1 s where WebGL runs in software,
      // as on a machine without a GPU (benchmarks/first_tile.py).
      drawer: "canvas"
    });
    // The canvas takes keyboard focus: arrow keys pan it, + and − zoom (see keydown below).
    viewer.canvas.setAttribute("role", "application");
    var panel = { viewer: viewer, element: element, canvasKey: null, region: null, opened: null, userDriving: false, readerZoomed: false, pending: 0, failure: null };
    // Only the reader's own pans and zooms are mirrored, never the fly-to of a step.
    ["canvas-drag", "canvas-scroll", "canvas-pinch", "canvas-double-click"].forEach(function (name) {
      viewer.addHandler(name, function () { panel.userDriving = true; });
    });
    viewer.addHandler("viewport-change", function () { if (!syncing && panel.userDriving) followLeader(panel); });
    // A panel that changes size (window resize, a second panel appearing, rotation) refits
    // its region at once, unless the reader has moved or zoomed the view themselves.
    // OpenSeadragon restores its own zoom right after this event, so refit on the next frame.
    viewer.addHandler("resize", function () {
      element.setAttribute("data-settled", "false");
      requestAnimationFrame(function () {
        if (panel.view && !panel.userDriving && !panel.readerZoomed) {
          panel.viewer.viewport.fitBoundsWithConstraints(rectFor(panel.view.canvas, panel.view.region), true);
        }
        // Still moving (a reader's fling): animation-finish says when it ends.
        if (!panel.pending && sameBounds(panel.viewer.viewport.getBounds(true), panel.viewer.viewport.getBounds())) {
          element.setAttribute("data-settled", "true");
        }
      });
    });
    // Not settled while a step's fit is still to come: OpenSeadragon also finishes "animations"
    // of its own (a resize, tiles arriving) before the region has been fitted.
    viewer.addHandler("animation-finish", function () { if (!panel.pending) element.setAttribute("data-settled", "true"); });
    viewer.addHandler("animation-start", function () { element.setAttribute("data-settled", "false"); });
    panels.push(panel);
    return panel;
  }

  function setMotion(reduced) {
    reduceMotion = reduced;
    panels.forEach(function (panel) {
      panel.viewer.animationTime = reduced ? 0 : 1.2;
      panel.viewer.springStiffness = reduced ? 100 : 6.5;
      // The viewport keeps its own copies of both.
      panel.viewer.viewport.centerSpringX.animationTime = panel.viewer.animationTime;
      panel.viewer.viewport.centerSpringY.animationTime = panel.viewer.animationTime;
      panel.viewer.viewport.zoomSpring.animationTime = panel.viewer.animationTime;
    });
  }
  if (motionQuery && motionQuery.addEventListener) {
    motionQuery.addEventListener("change", function (event) { setMotion(event.matches); });
  }

  // What fails is said in the panel, in words, with the image's credit and a link to where
  // the reader can still see it: a dark empty panel would read as "nothing here".
  function showFailure(panel, canvas, reason) {
    panel.element.setAttribute("data-error", reason || "image failed to load");
    if (panel.failure) return;
    var credit = canvas.credit || {};
    var box = document.createElement("div");
    box.className = "st-viewer-error";
    box.setAttribute("role", "alert");
    var text = document.createElement("p");
    text.textContent = fill(strings.imageFailed, { credit: credit.label || canvas.alias });
    box.appendChild(text);
    if (credit.link) {
      var link = document.createElement("a");
      link.href = credit.link;
      link.textContent = strings.imageFailedLink;
      var line = document.createElement("p");
      line.appendChild(link);
      box.appendChild(line);
    }
    panel.element.appendChild(box);
    panel.failure = box;
  }

  function clearFailure(panel) {
    panel.element.removeAttribute("data-error");
    if (panel.failure) panel.element.removeChild(panel.failure);
    panel.failure = null;
  }

  function openCanvas(panel, key) {
    if (panel.canvasKey === key && panel.opened) return panel.opened;
    var canvas = story.canvases[key];
    panel.canvasKey = key;
    panel.viewer.world.removeAll();
    clearFailure(panel);
    panel.opened = Promise.all(canvas.images.map(function (image) {
      // A local info.json that cannot be read fails this image only, like a remote one.
      return tileSourceFor(image).catch(function (error) { return { failed: String(error) }; });
    })).then(function (sources) {
      return Promise.all(sources.map(function (tileSource, i) {
        var image = canvas.images[i];
        var place = image.place;
        return new Promise(function (resolve) {
          if (tileSource && tileSource.failed) {
            showFailure(panel, canvas, tileSource.failed);
            resolve();
            return;
          }
          var options = {
            tileSource: tileSource,
            x: place[0] / canvas.width,
            y: place[1] / canvas.width,
            width: place[2] / canvas.width,
            success: resolve,
            error: function (event) {
              if (panel.canvasKey === key) showFailure(panel, canvas, event.message);
              resolve();
            }
          };
          if (image.clip) {
            // A part of an image (a virtual canvas): the whole image is placed so that its
            // clip lands on `place`, and only the clip is drawn.
            var clip = image.clip;
            var scale = place[2] / clip[2];  // canvas pixels per image pixel
            options.x = (place[0] - clip[0] * scale) / canvas.width;
            options.y = (place[1] - clip[1] * scale) / canvas.width;
            options.width = image.imageWidth * scale / canvas.width;
            options.clip = new OpenSeadragon.Rect(clip[0], clip[1], clip[2], clip[3]);
            options.success = function (event) {
              // The clip is in the manifest's pixels; the served image may be another size.
              var ratio = event.item.source.dimensions.x / image.imageWidth;
              if (Math.abs(ratio - 1) > 1e-6) {
                event.item.setClip(new OpenSeadragon.Rect(clip[0] * ratio, clip[1] * ratio, clip[2] * ratio, clip[3] * ratio));
              }
              resolve();
            };
          }
          panel.viewer.addTiledImage(options);
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
    panel.readerZoomed = false;
    panel.element.setAttribute("data-settled", "false");
    return openCanvas(panel, view.canvas).then(function () {
      panel.pending -= 1;
      var instant = immediate || reduceMotion;
      // A move asked for later replaces this one, even when its images were quicker to load.
      if (panel.view === view) {
        syncing = true;
        panel.viewer.viewport.fitBoundsWithConstraints(rectFor(view.canvas, view.region), instant);
        syncing = false;
      }
      // The last fit to arrive says whether the view is settled.
      if (panel.pending) return;
      if (instant) {
        panel.viewer.forceRedraw();
        panel.element.setAttribute("data-settled", "true");
      } else if (sameBounds(panel.viewer.viewport.getBounds(true), panel.viewer.viewport.getBounds())) {
        // Already there: no animation will run, so no animation-finish will say so.
        panel.element.setAttribute("data-settled", "true");
      }
    }, function (error) {
      panel.pending -= 1;
      throw error;
    });
  }

  function sameBounds(a, b) {
    var tolerance = 1e-6 * Math.max(a.width, a.height);
    return Math.abs(a.x - b.x) < tolerance && Math.abs(a.y - b.y) < tolerance &&
      Math.abs(a.width - b.width) < tolerance && Math.abs(a.height - b.height) < tolerance;
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
    panels.forEach(function (panel, i) {
      panel.element.hidden = i >= views.length;
      if (i < views.length) {
        panel.viewer.canvas.setAttribute("aria-label",
          fill(strings.viewerLabel, { n: i + 1, total: views.length, alt: views[i].alt }));
      }
    });
    // A panel that was hidden has to learn its new size before it can fit a region.
    panels.forEach(function (panel) { if (!panel.element.hidden) panel.viewer.forceResize(); });
    altText.textContent = views.map(function (view) { return view.alt; }).join(" / ");
    // Open the images now rather than after the two layout frames below: the first tile
    // waits on their info.json and on OpenSeadragon having them. fit() reuses the opening.
    views.forEach(function (view, i) { openCanvas(panels[i], view.canvas); });
    // A move is pending from now on, though fitting waits for the layout below.
    views.forEach(function (view, i) {
      panels[i].pending += 1;
      panels[i].element.setAttribute("data-settled", "false");
    });
    // Let the layout settle and OpenSeadragon measure the panels before fitting regions.
    return nextFrame().then(nextFrame).then(function () {
      return Promise.all(views.map(function (view, i) { return fit(panels[i], view, immediate); }));
    });
  }

  function stepUrl(number) {
    // The tour page's address, also from the embed page beside it.
    return new URL("./#step-" + number, location.href).href;
  }

  function setDisabled(button, disabled) {
    // aria-disabled rather than disabled: the button keeps focus at the first and last step.
    button.setAttribute("aria-disabled", disabled ? "true" : "false");
  }

  function go(number, options) {
    options = options || {};
    number = Math.max(0, Math.min(lastStep, Number(number) || 0));
    var step = story.steps[number];
    var first = current < 0;
    var changed = number !== current;
    current = number;
    sections.forEach(function (section) {
      var active = Number(section.getAttribute("data-step")) === number;
      section.hidden = !active;
      section.classList.toggle("st-active", active);
    });
    tocLinks.forEach(function (link) {
      if (Number(link.getAttribute("data-step")) === number) link.setAttribute("aria-current", "step");
      else link.removeAttribute("aria-current");
    });
    counter.textContent = String(number);
    progressTitle.hidden = number !== 0;
    progressStep.hidden = number === 0;
    progressBar.style.width = (lastStep ? (100 * number) / lastStep : 100) + "%";
    setDisabled(prevButton, number === 0);
    setDisabled(nextButton, number === lastStep);
    document.body.setAttribute("data-step", String(number));
    languageLinks.forEach(function (link) { link.hash = "step-" + number; });
    var steps = document.querySelector(".st-steps");
    if (changed) steps.scrollTop = 0;
    if (!first && changed) {
      say(number === 0 ? fill(strings.announceTitle, { title: step.title })
        : fill(strings.announce, { n: number, total: lastStep, title: step.title }));
    }
    if (options.history !== false && changed) {
      var hash = "#step-" + number;
      if (location.hash !== hash) history.pushState({ step: number }, "", hash);
    }
    if (options.focus) {
      var heading = sections[number] && sections[number].querySelector("h2") || document.getElementById("story-title");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus({ preventScroll: true }); }
    }
    // A step on an audio or video canvas plays in media.js's panel instead of the viewers.
    var timed = step.views.some(function (view) { return story.canvases[view.canvas].duration; });
    container.hidden = timed;
    var done = step.views.length && !timed ? showViews(step.views, first) : Promise.resolve();
    if (changed) {
      var detail = { story: story.slug, step: number, total: lastStep, title: step.title, url: stepUrl(number) };
      window.dispatchEvent(new CustomEvent("storiiies:step", { detail: detail }));
      if (window.parent !== window) {
        // The step is public information, so any host page may listen.
        window.parent.postMessage({ type: "storiiies:step", story: detail.story, step: number,
          total: lastStep, title: step.title, url: detail.url }, "*");
      }
    }
    return done;
  }

  function stepFromHash() {
    var match = /^#step-(\d+)$/.exec(location.hash);
    return match ? Number(match[1]) : 0;
  }

  function zoomBy(factor) {
    panels.forEach(function (panel) {
      // Not `userDriving` (the panels zoom together already, none follows another), but the
      // reader's zoom must survive a later resize.
      if (!panel.element.hidden) { panel.userDriving = false; panel.readerZoomed = true; panel.viewer.viewport.zoomBy(factor); }
    });
  }

  function panBy(panel, dx, dy) {
    var bounds = panel.viewer.viewport.getBounds();
    panel.userDriving = true;
    panel.viewer.viewport.panBy(new OpenSeadragon.Point(dx * bounds.width, dy * bounds.height));
  }

  prevButton.addEventListener("click", function () { if (current > 0) go(current - 1); });
  nextButton.addEventListener("click", function () { if (current < lastStep) go(current + 1); });
  document.querySelector(".st-zoom-in").addEventListener("click", function () { zoomBy(1.5); });
  document.querySelector(".st-zoom-out").addEventListener("click", function () { zoomBy(1 / 1.5); });
  document.querySelector(".st-zoom-reset").addEventListener("click", function () { go(current, { history: false }); });
  window.addEventListener("popstate", function () { go(stepFromHash(), { history: false }); });
  window.addEventListener("hashchange", function () {
    if (stepFromHash() !== current) go(stepFromHash(), { history: false, focus: true });
  });
  tocLinks.forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      link.closest("details").open = false;
      go(Number(link.getAttribute("data-step")), { focus: true });
    });
  });

  // In-step links move the view to another region without leaving the step.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.st-region-link");
    if (!link) return;
    event.preventDefault();
    var view = story.steps[current].links[Number(link.getAttribute("data-storiiies-link"))];
    if (!view) return;
    document.querySelectorAll("a.st-region-link[aria-current]").forEach(function (other) { other.removeAttribute("aria-current"); });
    link.setAttribute("aria-current", "true");
    say(fill(strings.regionShown, { alt: view.alt }));
    showViews([view], false);
  });

  // Full screen: the browser's own where allowed (not in every iframe or phone), and always
  // the layout without the site bar. Esc leaves both.
  var fullscreenButton = document.querySelector(".st-fullscreen");
  function setImmersive(on) {
    root.classList.toggle("st-immersive", on);
    fullscreenButton.setAttribute("aria-pressed", on ? "true" : "false");
    panels.forEach(function (panel) { panel.viewer.forceResize(); });
  }
  function toggleFullscreen() {
    var on = !root.classList.contains("st-immersive");
    setImmersive(on);
    if (on && root.requestFullscreen && document.fullscreenEnabled) {
      root.requestFullscreen().catch(function () { /* the layout alone still helps */ });
    } else if (!on && document.fullscreenElement) {
      document.exitFullscreen().catch(function () {});
    }
  }
  fullscreenButton.addEventListener("click", toggleFullscreen);
  document.addEventListener("fullscreenchange", function () {
    if (!document.fullscreenElement && root.classList.contains("st-immersive")) setImmersive(false);
  });

  function inDialog(target) { return target.closest && target.closest("dialog"); }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
    var target = event.target;
    var tag = (target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || inDialog(target)) return;
    var inViewer = target.closest && target.closest(".st-viewer");
    var panel = inViewer && panels.filter(function (p) { return p.element === inViewer; })[0];
    var handled = true;
    switch (event.key) {
      // Right to left, the next step lies to the left, where the Next button is.
      case "ArrowRight": if (panel) panBy(panel, 0.1, 0); else go(current + (rtl ? -1 : 1)); break;
      case "ArrowLeft": if (panel) panBy(panel, -0.1, 0); else go(current + (rtl ? 1 : -1)); break;
      case "ArrowDown": if (panel) panBy(panel, 0, 0.1); else document.querySelector(".st-steps").scrollBy(0, 48); break;
      case "ArrowUp": if (panel) panBy(panel, 0, -0.1); else document.querySelector(".st-steps").scrollBy(0, -48); break;
      case "PageDown": go(current + 1); break;
      case "PageUp": go(current - 1); break;
      case "Home": go(0); break;
      case "End": go(lastStep); break;
      case "+": case "=": zoomBy(1.5); break;
      case "-": case "_": case "−": zoomBy(1 / 1.5); break;
      case "0": go(current, { history: false }); break;
      case "f": case "F": if (!root.classList.contains("st-kiosk")) toggleFullscreen(); else handled = false; break;
      case "Escape":
        if (root.classList.contains("st-immersive")) toggleFullscreen();
        else handled = false;
        break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  // Swipe between steps on the text panel (the viewer keeps its own pinch and pan).
  var touchStart = null;
  var textPanel = document.querySelector(".st-panel");
  textPanel.addEventListener("touchstart", function (event) {
    touchStart = event.touches.length === 1 ? { x: event.touches[0].clientX, y: event.touches[0].clientY } : null;
  }, { passive: true });
  textPanel.addEventListener("touchend", function (event) {
    if (!touchStart) return;
    var dx = event.changedTouches[0].clientX - touchStart.x;
    var dy = event.changedTouches[0].clientY - touchStart.y;
    touchStart = null;
    if (Math.abs(dx) > 50 && Math.abs(dx) > 2 * Math.abs(dy)) go(current + (dx < 0 ? 1 : -1));
  }, { passive: true });

  // Copying links: the Clipboard API where the page may use it, else a selected text field.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return legacyCopy(text); });
    }
    return legacyCopy(text);
  }
  function legacyCopy(text) {
    var field = document.createElement("textarea");
    field.value = text;
    field.setAttribute("readonly", "");
    field.className = "st-visually-hidden";
    document.body.appendChild(field);
    field.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (error) { ok = false; }
    field.remove();
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }
  document.querySelectorAll(".st-copy-link").forEach(function (button) {
    button.addEventListener("click", function () {
      var url = stepUrl(Number(button.getAttribute("data-step")));
      button.setAttribute("data-url", url);
      copyText(url).then(function () { say(strings.copied); }, function () { say(strings.copyFailed + ": " + url); });
    });
  });

  // Dialogs: credits, and the embed code pointing at wherever this site is actually served.
  function wireDialog(openSelector, dialogId) {
    var dialog = document.getElementById(dialogId);
    document.querySelectorAll(openSelector).forEach(function (button) {
      button.addEventListener("click", function () { if (dialog && dialog.showModal) dialog.showModal(); });
    });
  }
  wireDialog(".st-open-credits", "st-credits-dialog");
  wireDialog(".st-open-embed", "st-embed-dialog");
  var embedCode = document.getElementById("st-embed-code");
  if (embedCode) {
    var embedUrl = new URL("embed.html", location.href.split("#")[0]).href;
    embedCode.value = embedCode.value.replace(/src="[^"]*"/, 'src="' + embedUrl + '"');
    document.querySelector(".st-copy-embed").addEventListener("click", function () {
      embedCode.select();
      copyText(embedCode.value).then(function () { say(strings.codeCopied); }, function () { say(strings.copyFailed); });
    });
  }

  // A host page may drive an embedded tour: postMessage({type: "storiiies:go", step: 3}).
  window.addEventListener("message", function (event) {
    var message = event.data;
    if (event.source === window.parent && message && message.type === "storiiies:go") go(message.step);
  });

  // The step bar shows "Previous"/"Next" beside their icons where they fit; in a narrow panel,
  // or a language with long words, the labels give way (the buttons keep their aria-labels)
  // rather than run over the step counter.
  var nav = document.querySelector(".st-nav");
  var toc = document.querySelector(".st-toc summary");
  function fitNav() {
    if (!nav || !toc) return;
    nav.classList.remove("st-nav-compact");
    if (toc.scrollWidth > toc.clientWidth + 1 || nav.scrollWidth > nav.clientWidth + 1) nav.classList.add("st-nav-compact");
  }
  if (nav && window.ResizeObserver) new ResizeObserver(fitNav).observe(nav);
  fitNav();

  // Each panel's state as plain data, measured when asked (common.js has the contract), so that
  // the other scripts and the tests never hold an OpenSeadragon object: the viewers stay here.
  // Viewport units are canvas widths (rectFor): times the width, they are canvas pixels.
  function canvasPixels(rect, scale) {
    return { x: rect.x * scale, y: rect.y * scale, w: rect.width * scale, h: rect.height * scale };
  }

  function views() {
    return panels.map(function (panel) {
      var viewport = panel.viewer.viewport;
      var world = panel.viewer.world;
      var scale = story.canvases[panel.canvasKey].width;  // a panel opens its canvas as it is made
      var items = [];
      for (var i = 0; i < world.getItemCount(); i++) {
        var item = world.getItemAt(i);
        items.push({ bounds: canvasPixels(item.getClippedBounds(), scale), loaded: item.getFullyLoaded() });
      }
      var size = viewport.getContainerSize();
      return {
        id: panel.element.id,
        hidden: panel.element.hidden,
        canvas: panel.canvasKey,
        region: panel.region ? panel.region.slice() : null,
        bounds: canvasPixels(viewport.getBounds(true), scale),
        target: canvasPixels(viewport.getBounds(), scale),
        zoom: viewport.getZoom(true),
        maxZoom: viewport.getMaxZoom(),
        size: { w: size.x, h: size.y },
        items: items,
        settled: panel.element.getAttribute("data-settled") === "true",
        error: panel.element.getAttribute("data-error")
      };
    });
  }

  // Content-state.js: `region` of canvas `key` (canvas pixels), at once, in the first panel that
  // has that canvas open. Not a step's fit: a resize still refits the step's own region.
  function fitRegion(key, region) {
    var panel = panels.filter(function (p) { return p.canvasKey === key; })[0];
    if (panel) panel.viewer.viewport.fitBounds(rectFor(key, region), true);
    return !!panel;
  }

  var ready = go(stepFromHash(), { history: false });
  if (!/^#step-\d+$/.test(location.hash)) history.replaceState({ step: current }, "", location.href);
  // The tour's part of the namespace (common.js lists it); the viewers stay inside.
  var namespace = window.storiiies;
  namespace.story = story;
  namespace.go = go;
  namespace.ready = ready;
  namespace.stepUrl = stepUrl;
  namespace.views = views;
  namespace.fitRegion = fitRegion;
  Object.defineProperty(namespace, "current", { get: function () { return current; }, enumerable: true, configurable: true });
  Object.defineProperty(namespace, "reduceMotion", { get: function () { return reduceMotion; }, enumerable: true, configurable: true });
  window.dispatchEvent(new CustomEvent("storiiies:ready"));
})();

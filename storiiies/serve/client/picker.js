// `storiiies serve` only: the region picker. Draw a rectangle on the deep-zoom image, or take
// the current view, to get the exact Markdown reference of that region; copy it, or insert it
// into the story file under the heading of the step on screen. Inside the editor's frame, each
// pick is also announced to the editor as a `storiiies:pick` event on this window
// (detail: {ref, region}), and `storiiies.picker.start()` / `.useView()` / `.close()` drive it.
(function () {
  "use strict";
  var tour = window.storiiies;
  var live = tour && tour.preview;
  var stage = document.querySelector(".st-stage");
  if (!tour || !tour.story || !tour.views || !stage) return;
  var story = tour.story;

  var bar = make("div", "sts-picker");
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", "Region picker");
  var pickButton = button("Pick a region", "Drag a rectangle on the image to get its Markdown reference");
  var viewButton = button("Use this view", "Take the region shown now");
  pickButton.setAttribute("aria-pressed", "false");
  bar.appendChild(pickButton);
  bar.appendChild(viewButton);
  stage.appendChild(bar);

  var layers = [];
  var result = null;
  var picked = null; // {canvas, region}

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function button(text, title) {
    var node = make("button", "sts-button", text);
    node.type = "button";
    if (title) node.title = title;
    return node;
  }

  // The tour's panels as plain data (`storiiies.views()`, see the theme's common.js), read
  // afresh at each use: a view may still be moving when the picker opens.
  function visibleViews() {
    return tour.views().filter(function (view) { return !view.hidden && view.canvas; });
  }

  function viewNamed(id) {
    return tour.views().filter(function (view) { return view.id === id; })[0];
  }

  function clamp(n, low, high) { return Math.max(low, Math.min(high, n)); }

  // Two corners in canvas pixels → the whole-pixel region between them, inside the canvas.
  function regionBetween(view, a, b) {
    var canvas = story.canvases[view.canvas];
    var x = clamp(Math.round(Math.min(a.x, b.x)), 0, canvas.width - 1);
    var y = clamp(Math.round(Math.min(a.y, b.y)), 0, canvas.height - 1);
    var right = clamp(Math.round(Math.max(a.x, b.x)), x + 1, canvas.width);
    var bottom = clamp(Math.round(Math.max(a.y, b.y)), y + 1, canvas.height);
    return { canvas: canvas, region: [x, y, right - x, bottom - y] };
  }

  // Viewer pixels → canvas pixels: the view's bounds span the width the viewer measured, with
  // one scale for both axes (as OpenSeadragon's own pointFromPixel).
  function canvasPoint(view, pixel) {
    var scale = view.bounds.w / view.size.w;
    return { x: view.bounds.x + pixel.x * scale, y: view.bounds.y + pixel.y * scale };
  }

  function regionFromPixels(view, from, to) {
    return regionBetween(view, canvasPoint(view, from), canvasPoint(view, to));
  }

  function regionFromView(view) {
    var bounds = view.bounds;
    return regionBetween(view, { x: bounds.x, y: bounds.y },
      { x: bounds.x + bounds.w, y: bounds.y + bounds.h });
  }

  function escapeAlt(text) {
    // As story_edit.escape_alt: backslashes, brackets, and backticks (two would make a code span).
    return text.split(/\s+/).filter(Boolean).join(" ").replace(/[\\\[\]`]/g, "\\$&");
  }

  function markdown(pick, alt) {
    return "![" + escapeAlt(alt) + "](" + pick.canvas.ref + "#xywh=" + pick.region.join(",") + ")";
  }

  function setPicking(on) {
    pickButton.setAttribute("aria-pressed", String(on));
    stage.classList.toggle("sts-picking", on);
    layers.forEach(function (layer) { layer.remove(); });
    layers = [];
    if (on) visibleViews().forEach(function (view) { layers.push(drawLayer(view.id)); });
  }

  function drawLayer(id) {
    var layer = make("div", "sts-layer");
    var box = make("div", "sts-box");
    var start = null;
    layer.appendChild(box);
    document.getElementById(id).appendChild(layer);
    function at(event) {
      var rect = layer.getBoundingClientRect();
      return { x: clamp(event.clientX - rect.left, 0, rect.width), y: clamp(event.clientY - rect.top, 0, rect.height) };
    }
    function draw(a, b) {
      box.style.left = Math.min(a.x, b.x) + "px";
      box.style.top = Math.min(a.y, b.y) + "px";
      box.style.width = Math.abs(a.x - b.x) + "px";
      box.style.height = Math.abs(a.y - b.y) + "px";
      box.hidden = false;
    }
    box.hidden = true;
    layer.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      layer.setPointerCapture(event.pointerId);
      start = at(event);
      draw(start, start);
    });
    layer.addEventListener("pointermove", function (event) { if (start) draw(start, at(event)); });
    layer.addEventListener("pointerup", function (event) {
      if (!start) return;
      var end = at(event);
      var from = start;
      start = null;
      if (Math.abs(end.x - from.x) < 3 || Math.abs(end.y - from.y) < 3) { box.hidden = true; return; }
      setPicking(false);
      showResult(regionFromPixels(viewNamed(id), from, end));
    });
    return layer;
  }

  function showResult(pick) {
    picked = pick;
    if (result) result.remove();
    var step = tour.current;
    result = make("div", "sts-result");
    result.setAttribute("role", "dialog");
    result.setAttribute("aria-label", "Region reference");
    var alt = make("input", "sts-alt");
    alt.type = "text";
    alt.placeholder = "What the region shows (text alternative)";
    alt.setAttribute("aria-label", "Text alternative");
    var code = make("input", "sts-code");
    code.type = "text";
    code.readOnly = true;
    code.setAttribute("aria-label", "Markdown reference");
    var status = make("p", "sts-status");
    status.setAttribute("aria-live", "polite");
    var copy = button("Copy");
    var insert = button(step > 0 ? "Insert into step " + step : "Insert (go to a step first)");
    insert.disabled = step === 0;
    var close = button("Close");
    function update() { code.value = markdown(pick, alt.value); }
    alt.addEventListener("input", update);
    copy.addEventListener("click", function () {
      code.select();
      var done = navigator.clipboard && window.isSecureContext
        ? navigator.clipboard.writeText(code.value)
        : Promise.resolve(document.execCommand("copy"));
      done.then(function () { status.textContent = "Copied."; },
        function () { status.textContent = "Select the text and copy it."; });
    });
    insert.addEventListener("click", function () {
      insert.disabled = true;
      status.textContent = "Inserting…";
      // The run's key for writes, read (same origin only) just before it is needed: a server
      // restarted since the page loaded has a new one.
      fetch(live.root + "_storiiies/problems.json", { cache: "no-store" }).then(function (response) {
        return response.json();
      }).then(function (data) {
        return fetch(live.root + "_storiiies/insert", {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-Storiiies-Token": data.write_token },
          body: JSON.stringify({
            story: story.slug, step: step, title: story.steps[step].title,
            ref: pick.canvas.ref, region: pick.region, alt: alt.value
          })
        });
      }).then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) throw new Error(data.error || response.statusText);
          status.textContent = "Added to " + data.file + ", line " + data.line + ".";
        });
      }).catch(function (error) {
        status.textContent = "Not inserted: " + error.message;
        insert.disabled = false;
      });
    });
    close.addEventListener("click", hideResult);
    var actions = make("div", "sts-actions");
    [copy, insert, close].forEach(function (node) { actions.appendChild(node); });
    [alt, code, actions, status].forEach(function (node) { result.appendChild(node); });
    stage.appendChild(result);
    update();
    alt.focus();
    window.dispatchEvent(new CustomEvent("storiiies:pick", {
      detail: { ref: pick.canvas.ref, region: pick.region.slice() }
    }));
  }

  function hideResult() {
    if (result) result.remove();
    result = null;
  }

  function useView() {
    var view = visibleViews()[0];
    if (view) { setPicking(false); showResult(regionFromView(view)); }
  }

  pickButton.addEventListener("click", function () {
    setPicking(pickButton.getAttribute("aria-pressed") !== "true");
  });
  viewButton.addEventListener("click", useView);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    if (layers.length) setPicking(false); else hideResult();
  });
  // A new step shows other images: a pending pick no longer applies.
  window.addEventListener("storiiies:step", function () { setPicking(false); hideResult(); });

  tour.picker = {
    get picked() { return picked; },
    markdown: function () { return result ? result.querySelector(".sts-code").value : null; },
    start: function () { hideResult(); setPicking(true); },
    useView: useView,
    close: function () { setPicking(false); hideResult(); }
  };
  window.dispatchEvent(new CustomEvent("storiiies:picker"));
})();

// The one namespace of the site's scripts, `window.storiiies`, and the helpers they share.
// Loaded first on every page (base.html), before tour.js, media.js, content-state.js, search.js
// and kiosk.js, which add to it. Plain ES5 plus URL, Promise and fetch (the browsers that run
// OpenSeadragon 6); see docs/embedding.md for what a host page may use.
//
//   What a page embedding a tour may use (set by tour.js on tour pages):
//     storiiies.story        the story's data, as the build wrote it
//     storiiies.go(n)        show step n (0 = title); a Promise, settled once the view is there
//     storiiies.ready        a Promise, settled once the first step is shown
//     storiiies.current      the step shown now
//     storiiies.stepUrl(n)   the address of step n
//     storiiies.reduceMotion whether the tour moves without animation (the reader's
//                            prefers-reduced-motion, followed as it changes)
//     storiiies.views()      the deep-zoom panels as plain data, measured when called, one
//                            record each (hidden ones too), in page order:
//         id       the id of the panel's element (`st-viewer-0`, …; it carries `data-settled`)
//         hidden   whether the panel is off (a step shows fewer panels than the page has)
//         canvas   the key in story.canvases of the canvas it shows
//         region   [x, y, w, h] the step (or region link) fitted, canvas pixels; null = whole
//         bounds   {x, y, w, h}: the part of the canvas in view now, mid-move too
//         target   {x, y, w, h}: where the view is going; equal to bounds once it is still
//         zoom     now: the canvas's width over the width in view (1 = it just fills the panel)
//         maxZoom  the most zoom the reader gets: an image pixel over two screen pixels
//         size     {w, h}: the panel's size in CSS pixels, as the viewer last measured it
//         items    [{bounds: {x, y, w, h}, loaded}] per image opened on the canvas: where it
//                  lies and whether every tile it needs for the view has arrived
//         settled  whether the element's data-settled is "true"
//         error    the element's data-error (why an image failed), or null
//       Every position is in canvas pixels, unrounded. The OpenSeadragon viewers themselves
//       stay inside tour.js.
//   Window events: `storiiies:ready` (tour.js has set the above), `storiiies:step` (detail.step).
//   Features, each set by its own script:
//     storiiies.kiosk        kiosk.js: {playing, attract, slide, slidesShown, planned, home}
//     storiiies.media        media.js: {on, setOn(on), segment, narration(n)}
//     storiiies.contentState content-state.js: {encode, decode, open, opened} (IIIF Content State)
//     storiiies.preview      live.js, only under `storiiies serve`: {connected, …}
//     storiiies.timeScale    read by kiosk.js: a page (or a test) may set it before the scripts
//                            run to speed up every kiosk clock
//   Shared by the scripts, not an interface for host pages:
//     storiiies.fitRegion(canvas, region)   tour.js: show region ([x, y, w, h], canvas pixels)
//                            at once in the first panel showing that canvas (content-state.js)
//     storiiies.util.fill(template, values)   "{name}" placeholders of an interface string
//     storiiies.util.say(element, message)    announce in an aria-live element, again if repeated
(function () {
  "use strict";
  var storiiies = window.storiiies = window.storiiies || {};

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function say(element, message) {
    if (!element) return;
    // Clearing first makes screen readers announce a repeated message again.
    element.textContent = "";
    window.setTimeout(function () { element.textContent = message; }, 50);
  }

  storiiies.util = { fill: fill, say: say };

  // Kiosk mode asked for by the address (`?kiosk=1`) on a site without `kiosk: enabled`,
  // whose pages do not load kiosk.js (base.html): it is loaded now, beside this file.
  var kioskScript = document.querySelector('script[src$="storiiies/kiosk.js"]');
  if (/[?&]kiosk=1(&|$)/.test(location.search) && !kioskScript && document.currentScript) {
    var script = document.createElement("script");
    script.src = new URL("kiosk.js", document.currentScript.src).href;
    document.head.appendChild(script);
  }
})();

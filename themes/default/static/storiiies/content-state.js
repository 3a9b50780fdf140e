// IIIF Content State 1.0 on the tour page, kept apart from tour.js.
// - `?iiif-content=` (encoded JSON, or the URL of a content state) opens the step that shows
//   that region, or the step that shows its canvas, zoomed to the region.
// - Every step gets a share link carrying its own content state; dragging the link hands the
//   plain content state to any viewer that accepts drops (spec §3.4).
(function () {
  "use strict";
  var tour = window.storiiies;
  if (!tour || !tour.story || !tour.story.iiif) return;
  var iiif = tour.story.iiif;

  // §6.1: encodeURIComponent, then base64url, without padding; decoding reverses each step.
  function encode(text) {
    return btoa(encodeURIComponent(text)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decode(encoded) {
    var base64 = encoded.replace(/-/g, "+").replace(/_/g, "/");
    if (base64.length % 4 === 1) throw new Error("not a content state");
    while (base64.length % 4) base64 += "=";
    return decodeURIComponent(atob(base64));
  }

  function load(value) {
    value = value.trim();
    if (/^https?:\/\//.test(value)) {
      return fetch(value).then(function (response) { return response.json(); });
    }
    return Promise.resolve(JSON.parse(value.charAt(0) === "{" ? value : decode(value)));
  }

  function xywh(text) {
    var match = /xywh=(?:pixel:)?(-?[\d.]+),(-?[\d.]+),([\d.]+),([\d.]+)/.exec(text || "");
    return match ? match.slice(1).map(function (n) { return Math.round(Number(n)); }) : null;
  }

  // The canvases and regions a content state points at, whatever form it takes (§2.2).
  function places(state) {
    var isAnnotation = state && state.type === "Annotation";
    var targets = [].concat(isAnnotation ? state.target : state);
    return targets.map(function (target) {
      if (typeof target === "string") return { canvas: target.split("#")[0], region: xywh(target.split("#")[1]) };
      if (!target) return null;
      if (target.type === "SpecificResource") {
        var source = typeof target.source === "string" ? target.source : (target.source || {}).id;
        var selector = [].concat(target.selector || [])[0] || {};
        return { canvas: (source || "").split("#")[0], region: xywh(selector.value) };
      }
      var id = target.id || target["@id"] || "";
      return { canvas: id.split("#")[0], region: xywh(id.split("#")[1]) };
    }).filter(Boolean);
  }

  function keyOf(canvasId) {
    for (var key in iiif.canvasIds) if (iiif.canvasIds[key] === canvasId) return key;
    return null;
  }

  function sameRegion(a, b, key) {
    var canvas = tour.story.canvases[key];
    var full = [0, 0, canvas.width, canvas.height];
    var left = (a || full).map(Math.round), right = (b || full).map(Math.round);
    return left.every(function (n, i) { return Math.abs(n - right[i]) <= 1; });
  }

  function matches(views, wanted) {
    return views.length === wanted.length && wanted.every(function (place, i) {
      return views[i].canvas === place.key && sameRegion(views[i].region, place.region, place.key);
    });
  }

  function show(number) {
    history.replaceState({ step: number }, "", "#step-" + number);
    return tour.go(number, { history: false });
  }

  // Open a content state: the step that shows exactly its regions (the one the address's
  // `#step-N` names first, as a share link's does: two steps may show the same region), else
  // an in-step link that does, else the first step on its canvas with the view fitted there.
  function open(state) {
    var wanted = places(state).map(function (place) {
      return { key: keyOf(place.canvas), region: place.region };
    }).filter(function (place) { return place.key; });
    if (!wanted.length) return Promise.resolve(false);
    var steps = tour.story.steps;
    var named = /^#step-(\d+)$/.exec(location.hash);
    if (named && steps[Number(named[1])] && matches(steps[Number(named[1])].views, wanted)) {
      return show(Number(named[1])).then(function () { return true; });
    }
    for (var n = 0; n < steps.length; n++) {
      if (matches(steps[n].views, wanted)) return show(n).then(function () { return true; });
    }
    for (n = 0; n < steps.length; n++) {
      for (var k = 0; k < steps[n].links.length; k++) {
        if (matches([steps[n].links[k]], wanted.slice(0, 1))) {
          var link = document.querySelector('#step-' + n + ' a[data-storiiies-link="' + k + '"]');
          return show(n).then(function () { if (link) link.click(); return true; });
        }
      }
    }
    var place = wanted[0];
    for (n = 0; n < steps.length; n++) {
      if (steps[n].views.some(function (view) { return view.canvas === place.key; })) {
        return show(n).then(function () {
          if (place.region) tour.fitRegion(place.key, place.region);
          return true;
        });
      }
    }
    return Promise.resolve(false);
  }

  var strings = JSON.parse(document.getElementById("st-strings").textContent);

  function addShareLinks() {
    Array.prototype.forEach.call(document.querySelectorAll(".st-step[data-step]"), function (section) {
      var number = Number(section.getAttribute("data-step"));
      var state = iiif.contentStates[number];
      if (!state) return;
      var paragraph = document.createElement("p");
      paragraph.className = "st-share";
      var link = document.createElement("a");
      link.href = location.pathname + "?iiif-content=" + state + "#step-" + number;
      link.textContent = strings.iiifLink;
      link.title = strings.iiifLinkTitle;
      link.setAttribute("data-iiif-content", state);
      link.addEventListener("dragstart", function (event) {
        event.dataTransfer.setData("text/plain", decode(state));
      });
      paragraph.appendChild(link);
      section.appendChild(paragraph);
    });
  }

  addShareLinks();
  var given = new URLSearchParams(location.search).get("iiif-content");
  var opened = Promise.resolve(false);
  if (given) {
    opened = tour.ready.then(function () { return load(given); }).then(open).catch(function (error) {
      document.body.setAttribute("data-content-state-error", String(error && error.message || error));
      return false;
    });
  }
  tour.contentState = { encode: encode, decode: decode, open: open, opened: opened };
})();

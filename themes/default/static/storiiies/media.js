// Sound in the tour: each step's narration, and segments of audio or video canvases, which
// take the place of the deep-zoom viewer. Nothing plays by itself until the visitor turns
// sound on with the sound button (remembered for the session): browsers block sound before a
// gesture, and a voice must not start over a screen reader unasked. A kiosk plays sound with
// its steps as soon as the browser lets it (after the first touch). Whatever plays stops when
// the step changes. A segment starts at its start and pauses at its end: media fragments
// (#t=) alone are not honoured by every browser. See docs/authoring.md.
(function () {
  "use strict";
  var STORAGE_KEY = "storiiies:sound";

  function stored() {
    try { return window.sessionStorage.getItem(STORAGE_KEY); } catch (error) { return null; }
  }
  function store(value) {
    try { window.sessionStorage.setItem(STORAGE_KEY, value); } catch (error) { /* private mode */ }
  }

  function start() {
    var tour = window.storiiies;
    if (!tour || !tour.go || tour.media) return; // before tour.js is ready, or started already
    var story = tour.story;
    var strings = JSON.parse(document.getElementById("st-strings").textContent);
    var root = document.documentElement;
    var stage = document.querySelector(".st-stage");
    var panel = document.querySelector(".st-media");
    if (!panel) { // a theme's own story.html without the panel still plays segments
      panel = document.createElement("div");
      panel.className = "st-media";
      panel.hidden = true;
      (stage || document.body).appendChild(panel);
    }
    var live = document.querySelector(".st-live");
    var toggle = document.querySelector(".st-sound");
    var kiosk = root.classList.contains("st-kiosk");
    var on = stored() === "on" || (kiosk && stored() !== "off");
    var players = {}; // canvas key → its <audio>/<video> on the stage
    var shown = null; // the segment on the stage: {key, start, end}
    var waiting = null; // sound the browser blocked, to start at the next gesture

    function say(message) { tour.util.say(live, message); }

    function bounds(element) {
      var end = element.getAttribute("data-end");
      return { start: Number(element.getAttribute("data-start")) || 0, end: end ? Number(end) : null };
    }

    // Keeps a media element inside its segment: playing from outside it starts at the start,
    // and reaching the end pauses. Checked every frame while playing, for a prompt stop.
    function keepInSegment(element) {
      function check() {
        var range = bounds(element);
        if (range.end !== null && element.currentTime >= range.end - 0.02) {
          element.pause();
          return false;
        }
        return true;
      }
      function watch() {
        if (!element.paused && check()) requestAnimationFrame(watch);
      }
      element.addEventListener("play", function () {
        var range = bounds(element);
        if (element.currentTime < range.start - 0.25 || (range.end !== null && element.currentTime >= range.end - 0.05)) {
          element.currentTime = range.start;
        }
      });
      element.addEventListener("playing", watch);
      element.addEventListener("timeupdate", check);
      // Arrow keys, Home and End belong to the player here, not to the step navigation.
      element.addEventListener("keydown", function (event) {
        if (/^(Arrow|Home$|End$|PageUp$|PageDown$| $)/.test(event.key)) event.stopPropagation();
      });
    }

    function seek(element, seconds) {
      if (element.readyState >= 1) {
        element.currentTime = seconds;
        return;
      }
      element.addEventListener("loadedmetadata", function once() {
        element.removeEventListener("loadedmetadata", once);
        element.currentTime = seconds;
      });
    }

    function play(element) {
      waiting = null;
      var result = element.play();
      if (result && result.catch) {
        result.catch(function () { waiting = element; });
      }
    }
    // A blocked start (no gesture yet) is retried at the first touch or key.
    ["pointerdown", "keydown"].forEach(function (name) {
      document.addEventListener(name, function () {
        if (waiting && on) play(waiting);
      }, true);
    });

    var narrations = {};
    document.querySelectorAll(".st-narration-audio").forEach(function (element) {
      keepInSegment(element);
      narrations[element.closest(".st-narration").getAttribute("data-step")] = element;
    });

    function segmentPlayer(key) {
      if (players[key]) return players[key];
      var canvas = story.canvases[key];
      var video = canvas.media.some(function (media) { return media.type === "Video"; });
      var element = document.createElement(video ? "video" : "audio");
      element.className = "st-segment";
      element.controls = true;
      element.preload = "metadata";
      element.setAttribute("playsinline", "");
      // Captions from another server need CORS, as IIIF servers give.
      if (canvas.captions.length) element.crossOrigin = "anonymous";
      canvas.media.forEach(function (media) {
        var source = document.createElement("source");
        source.src = media.url;
        if (media.format) source.type = media.format;
        element.appendChild(source);
      });
      canvas.captions.forEach(function (captions, i) {
        var track = document.createElement("track");
        track.kind = "captions";
        track.src = captions.url;
        track.srclang = captions.language || story.lang;
        track.label = captions.label || strings.captions || captions.language || "";
        if (i === 0) track.default = true;
        element.appendChild(track);
      });
      keepInSegment(element);
      element.hidden = true;
      panel.appendChild(element);
      players[key] = element;
      return element;
    }

    function timedView(step) {
      return step.views.filter(function (view) { return story.canvases[view.canvas].duration; })[0] || null;
    }

    function showSegment(view) {
      if (!view) {
        shown = null;
        panel.hidden = true;
        if (stage) stage.removeAttribute("data-media");
        return null;
      }
      var canvas = story.canvases[view.canvas];
      var time = view.time || [0, canvas.duration];
      var element = segmentPlayer(view.canvas);
      Object.keys(players).forEach(function (key) { players[key].hidden = key !== view.canvas; });
      panel.hidden = false;
      if (stage) stage.setAttribute("data-media", element.tagName.toLowerCase());
      element.setAttribute("aria-label", view.alt);
      element.setAttribute("data-start", String(time[0]));
      element.setAttribute("data-end", String(time[1]));
      var same = shown && shown.key === view.canvas && shown.start === time[0] && shown.end === time[1];
      if (!same) seek(element, time[0]);
      shown = { key: view.canvas, start: time[0], end: time[1] };
      return element;
    }

    function stopAll() {
      waiting = null;
      Object.keys(narrations).forEach(function (step) { narrations[step].pause(); });
      Object.keys(players).forEach(function (key) { players[key].pause(); });
    }

    // What plays with step `number` when sound is on: its narration, else its segment.
    function soundOf(number) {
      return narrations[String(number)] || (shown && players[shown.key]) || null;
    }

    function showStep(number) {
      var step = story.steps[number];
      if (!step) return;
      stopAll();
      var before = shown;
      var segment = showSegment(timedView(step));
      // A step that keeps the previous step's segment (no region of its own) does not replay it.
      var fresh = segment && !(before && before.key === shown.key && before.start === shown.start &&
        before.end === shown.end);
      var narration = narrations[String(number)];
      if (narration) seek(narration, bounds(narration).start);
      if (on) {
        var sound = narration || (fresh ? segment : null);
        if (sound) play(sound);
      }
    }

    function setOn(value) {
      on = value;
      store(on ? "on" : "off");
      if (toggle) toggle.setAttribute("aria-pressed", on ? "true" : "false");
    }
    if (toggle) {
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      toggle.addEventListener("click", function () {
        setOn(!on);
        say(on ? strings.narrationOn : strings.narrationOff);
        var sound = soundOf(tour.current);
        if (on && sound) play(sound); else stopAll();
      });
    }

    window.addEventListener("storiiies:step", function (event) { showStep(event.detail.step); });
    showStep(tour.current);
    tour.media = {
      get on() { return on; },
      setOn: setOn,
      get segment() { return shown ? players[shown.key] : null; },
      narration: function (number) { return narrations[String(number)] || null; }
    };
  }

  window.addEventListener("storiiies:ready", start);
  start();
})();

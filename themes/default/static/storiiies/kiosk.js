// Kiosk mode, on any page of the site: `kiosk: enabled` in storiiies.yml or `?kiosk=1`.
// Tours play by themselves and pause when touched; an untouched screen returns to the start
// after `idle_seconds`; the home page cycles through every story (the attract loop); links
// that would leave the kiosk are switched off. Timings come from #st-kiosk-settings and are
// scaled by `storiiies.timeScale` (tests shorten the clock with it); the state is
// `storiiies.kiosk` (common.js lists the namespace). See docs/kiosk.md.
(function () {
  "use strict";
  var settingsElement = document.getElementById("st-kiosk-settings");
  var settings = settingsElement ? JSON.parse(settingsElement.textContent || "null") : null;
  var fromQuery = /[?&]kiosk=1(&|$)/.test(location.search);
  if (!settings || !(settings.enabled || fromQuery) || !window.storiiies) return;
  var root = document.documentElement;
  root.classList.add("st-kiosk");

  var scriptUrl = document.currentScript ? document.currentScript.src : location.href;
  var siteRoot = new URL("../../", scriptUrl); // this file is assets/storiiies/kiosk.js
  var homeUrl = new URL(fromQuery ? "?kiosk=1" : "./", siteRoot).href;
  var isHome = !document.getElementById("story-data");

  function seconds(value) {
    var scale = Number(window.storiiies.timeScale) || 1;
    return Math.max(0, value * scale * 1000);
  }

  // Links: only pages of this site stay live; `?kiosk=1` travels with them when it came
  // from the address. Data files (manifests) are no place for a visitor at a kiosk.
  function keepsKiosk(url) {
    return url.origin === siteRoot.origin && url.pathname.indexOf(siteRoot.pathname) === 0 &&
      !/\.json$/.test(url.pathname) && !/\/text\.html$/.test(url.pathname);
  }
  document.querySelectorAll("a[href]").forEach(function (link) {
    var url = new URL(link.getAttribute("href"), location.href);
    link.removeAttribute("target");
    if (!keepsKiosk(url)) {
      link.removeAttribute("href");
      link.setAttribute("aria-disabled", "true");
      return;
    }
    if (fromQuery && link.getAttribute("href").charAt(0) !== "#") {
      url.searchParams.set("kiosk", "1");
      link.setAttribute("href", url.href);
    }
  });
  document.addEventListener("contextmenu", function (event) { event.preventDefault(); });
  document.addEventListener("dragstart", function (event) { event.preventDefault(); });

  var idleTimer = null;
  var onIdle = function () {};
  function touched() {
    window.clearTimeout(idleTimer);
    idleTimer = window.setTimeout(function () { onIdle(); }, seconds(settings.idleSeconds));
  }
  ["pointerdown", "keydown", "wheel", "touchstart"].forEach(function (name) {
    document.addEventListener(name, touched, { capture: true, passive: true });
  });

  // What the kiosk is doing, for tests and host pages: `planned` lists [step, milliseconds].
  var state = { playing: false, attract: false, slide: -1, slidesShown: 0, planned: [], home: homeUrl };
  window.storiiies.kiosk = state;

  if (isHome) {
    startHome();
  } else {
    window.addEventListener("storiiies:ready", startTour);
    if (window.storiiies.go) startTour();
  }

  function startHome() {
    var overlay = document.querySelector(".st-attract");
    var stories = settings.stories || [];
    if (!overlay || !settings.attract || !stories.length) {
      touched();
      return;
    }
    var image = overlay.querySelector(".st-attract-image");
    var title = overlay.querySelector(".st-attract-title");
    var others = Array.prototype.slice.call(document.body.children).filter(function (el) {
      return el !== overlay && el.tagName !== "SCRIPT";
    });
    var slideTimer = null;
    overlay.setAttribute("role", "button");
    overlay.setAttribute("tabindex", "0");
    overlay.setAttribute("aria-labelledby", "st-attract-title st-attract-hint");

    function showSlide(index) {
      state.slide = index % stories.length;
      state.slidesShown += 1;
      var slide = stories[state.slide];
      image.src = slide.image || "";
      image.alt = slide.alt || "";
      title.textContent = slide.title;
      overlay.setAttribute("data-story", slide.url);
      // Fetch the next cover now, so the change is instant (and it is on this site).
      if (stories.length > 1) (new Image()).src = stories[(state.slide + 1) % stories.length].image || "";
      slideTimer = window.setTimeout(function () { showSlide(state.slide + 1); }, seconds(settings.attractSeconds));
    }
    function startAttract() {
      state.attract = true;
      overlay.hidden = false;
      others.forEach(function (el) { el.inert = true; });
      showSlide(state.slide + 1);
      overlay.focus({ preventScroll: true });
    }
    function stopAttract(event) {
      if (!state.attract) return;
      if (event) event.preventDefault();
      state.attract = false;
      window.clearTimeout(slideTimer);
      overlay.hidden = true;
      others.forEach(function (el) { el.inert = false; });
      var first = document.querySelector(".st-card-link");
      if (first) first.focus({ preventScroll: true });
      touched();
    }
    overlay.addEventListener("click", stopAttract);
    overlay.addEventListener("keydown", stopAttract);
    onIdle = startAttract;
    startAttract();
  }

  function startTour() {
    if (state.tour) return;
    state.tour = true;
    var tour = window.storiiies;
    var button = document.querySelector(".st-play");
    var stepTimer = null;
    var lastStep = tour.story.steps.length - 1;

    function duration(step) {
      var own = settings.durations && settings.durations[String(step)];
      // A step with narration or an audio/video segment waits for it to end.
      var sound = settings.mediaSeconds && settings.mediaSeconds[String(step)];
      return seconds(Math.max(own || settings.stepSeconds, sound || 0));
    }
    function schedule() {
      window.clearTimeout(stepTimer);
      if (!state.playing) return;
      state.planned.push([tour.current, duration(tour.current)]);
      stepTimer = window.setTimeout(function () {
        if (tour.current < lastStep) tour.go(tour.current + 1);
        else if (settings.attract) location.href = homeUrl;
        else tour.go(0);
      }, duration(tour.current));
    }
    function setPlaying(on) {
      state.playing = on;
      if (button) button.setAttribute("aria-pressed", on ? "true" : "false");
      schedule();
    }
    if (button) {
      button.hidden = !settings.autoplay;
      button.addEventListener("click", function () { setPlaying(!state.playing); });
    }
    // A touch anywhere but the play button means a visitor is reading: stop moving on.
    document.addEventListener("pointerdown", function (event) {
      if (state.playing && !(button && button.contains(event.target))) setPlaying(false);
    }, true);
    document.addEventListener("keydown", function (event) {
      if (state.playing && !(button && button.contains(event.target))) setPlaying(false);
    }, true);
    window.addEventListener("storiiies:step", schedule);
    onIdle = function () {
      if (settings.attract) {
        location.href = homeUrl;
      } else {
        tour.go(0);
        setPlaying(settings.autoplay);
        touched();
      }
    };
    setPlaying(!!settings.autoplay);
    touched();
  }
})();

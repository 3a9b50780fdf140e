/* Search and tag filter on the home page, over the search.json the build wrote.
 *
 * Everything runs here, so it works on any static host and in a kiosk with no network. The
 * query and the chosen tags live in the address (?q=…&tag=…): a search can be shared or
 * bookmarked, and the back button brings it back. Results are the story cards themselves,
 * shown or hidden and put in order of relevance, each with the steps that match; they are
 * built from text nodes only.
 */
(function () {
  "use strict";

  var box = document.querySelector(".st-search");
  var list = document.querySelector(".st-story-list");
  if (!box || !list || !window.storiiies) return;
  var fill = window.storiiies.util.fill;
  var input = box.querySelector("input[type=search]");
  var status = box.querySelector(".st-search-status");
  var tagButtons = Array.prototype.slice.call(box.querySelectorAll(".st-tag"));
  var cards = Array.prototype.slice.call(list.querySelectorAll(".st-story-card"));
  // Every page has the interface strings of its language (English where one is missing).
  var strings = JSON.parse(document.getElementById("st-strings").textContent);
  var MAX_STEPS_SHOWN = 3;
  var SNIPPET = 70;  // characters of context either side of the first match

  var index = null;      // url → story entry, once search.json has loaded
  var loading = null;
  var timer = 0;

  /* Case- and accent-blind form of a text, so "eglise" finds "Église". */
  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function terms(query) {
    return fold(query).split(/\s+/).filter(Boolean);
  }

  function load() {
    if (!loading) {
      loading = fetch(box.getAttribute("data-index"))
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (data) {
          index = {};
          data.stories.forEach(function (story) {
            var tags = fold(story.tags.join(" "));
            story.versions.forEach(function (version) {
              version.folded = {
                title: fold(version.title),
                summary: fold(version.summary),
                tags: tags,
                intro: fold(version.intro)
              };
              version.steps.forEach(function (step) { step.folded = fold(step.title + " " + step.text); });
            });
            index[story.url] = story;
          });
        })
        .catch(function () {
          loading = null;  // try again on the next keystroke
          showStatus(strings.searchUnavailable);
        });
    }
    return loading;
  }

  function selectedTags() {
    return tagButtons.filter(function (b) { return b.getAttribute("aria-pressed") === "true"; })
      .map(function (b) { return b.getAttribute("data-tag"); });
  }

  function cardTags(card) {
    try { return JSON.parse(card.getAttribute("data-tags") || "[]"); } catch (e) { return []; }
  }

  /* The language version of a story that matches the query best (null if none does), and its score. */
  function bestVersion(story, words) {
    var best = null, bestScore = 0;
    story.versions.forEach(function (version) {
      var points = score(version, words);
      if (points > bestScore) { best = version; bestScore = points; }
    });
    return { version: best, score: bestScore };
  }

  /* Score of one version of a story for the query: every term must occur somewhere in it. */
  function score(story, words) {
    var total = 0;
    for (var i = 0; i < words.length; i++) {
      var w = words[i], found = 0;
      if (story.folded.title.indexOf(w) >= 0) found += 8;
      if (story.folded.tags.indexOf(w) >= 0) found += 4;
      if (story.folded.summary.indexOf(w) >= 0) found += 3;
      if (story.folded.intro.indexOf(w) >= 0) found += 1;
      for (var j = 0; j < story.steps.length; j++) {
        if (story.steps[j].folded.indexOf(w) >= 0) found += 1;
      }
      if (!found) return 0;
      total += found;
    }
    return total;
  }

  function matchingSteps(story, words) {
    return story.steps
      .map(function (step) {
        var hits = words.filter(function (w) { return step.folded.indexOf(w) >= 0; }).length;
        return { step: step, hits: hits };
      })
      .filter(function (m) { return m.hits > 0; })
      .sort(function (a, b) { return b.hits - a.hits || a.step.number - b.step.number; })
      .slice(0, MAX_STEPS_SHOWN)
      .map(function (m) { return m.step; });
  }

  /* A piece of the step's text around the first match, with every match in <mark>. */
  function snippet(text, words) {
    var folded = fold(text);
    var first = -1;
    words.forEach(function (w) {
      var at = folded.indexOf(w);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    });
    var start = Math.max(0, first - SNIPPET), end = Math.min(text.length, first + SNIPPET * 2);
    // Folding can change the length of a text (rare ligatures): fall back to the start then.
    if (folded.length !== text.length) { start = 0; end = Math.min(text.length, SNIPPET * 3); }
    var fragment = document.createDocumentFragment();
    if (start > 0) fragment.appendChild(document.createTextNode("…"));
    var part = text.slice(start, end), partFolded = folded.slice(start, end), at = 0;
    while (at < part.length && folded.length === text.length) {
      var next = -1, length = 0;
      words.forEach(function (w) {
        var i = partFolded.indexOf(w, at);
        if (i >= 0 && (next < 0 || i < next)) { next = i; length = w.length; }
      });
      if (next < 0) break;
      fragment.appendChild(document.createTextNode(part.slice(at, next)));
      var mark = document.createElement("mark");
      mark.textContent = part.slice(next, next + length);
      fragment.appendChild(mark);
      at = next + length;
    }
    fragment.appendChild(document.createTextNode(part.slice(at)));
    if (end < text.length) fragment.appendChild(document.createTextNode("…"));
    return fragment;
  }

  function showSteps(card, story, words) {
    var old = card.querySelector(".st-hits");
    if (old) old.remove();
    if (!story || !words.length) return;
    var steps = matchingSteps(story, words);
    if (!steps.length) return;
    var hits = document.createElement("ul");
    hits.className = "st-hits";
    hits.setAttribute("aria-label", fill(strings.searchMatchingSteps, { title: story.title }));
    hits.lang = story.lang;  // a French version's steps are read in French
    steps.forEach(function (step) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = story.url + "#step-" + step.number;
      link.textContent = fill(strings.searchStepTitle, { n: step.number, title: step.title });
      item.appendChild(link);
      var text = document.createElement("p");
      text.appendChild(snippet(step.text, words));
      item.appendChild(text);
      hits.appendChild(item);
    });
    card.appendChild(hits);
  }

  function showStatus(text) {
    status.textContent = text;
  }

  function apply() {
    var query = input.value.trim();
    var words = terms(query);
    var tags = selectedTags();
    var foldedTags = tags.map(fold);
    if (words.length && !index) {
      load().then(apply);
      return;
    }
    var shown = [];
    cards.forEach(function (card, position) {
      var story = index ? index[card.getAttribute("data-url")] : null;
      var mine = cardTags(card).map(fold);
      var tagged = foldedTags.every(function (t) { return mine.indexOf(t) >= 0; });
      var match = words.length && story ? bestVersion(story, words) : { version: null, score: 0 };
      var relevance = words.length ? match.score : 1;
      var visible = tagged && relevance > 0;
      card.hidden = !visible;
      showSteps(card, visible ? match.version : null, words);
      if (visible) shown.push({ card: card, relevance: relevance, position: position });
    });
    // Most relevant first, in the document too, so screen readers and Tab follow what is seen.
    shown.sort(function (a, b) { return b.relevance - a.relevance || a.position - b.position; });
    shown.forEach(function (entry) { list.appendChild(entry.card); });
    cards.forEach(function (card) { if (card.hidden) list.appendChild(card); });
    if (!words.length && !tags.length) showStatus("");
    else if (!shown.length) showStatus(strings.searchNone);
    else if (shown.length === 1) showStatus(strings.searchOne);
    else showStatus(fill(strings.searchMany, { n: shown.length }));
    remember(query, tags);
  }

  function remember(query, tags) {
    var params = new URLSearchParams(location.search);
    params.delete("q");
    params.delete("tag");
    if (query) params.set("q", query);
    tags.forEach(function (t) { params.append("tag", t); });
    var search = params.toString();
    var url = location.pathname + (search ? "?" + search : "") + location.hash;
    if (url !== location.pathname + location.search + location.hash) history.replaceState(history.state, "", url);
  }

  function restore() {
    var params = new URLSearchParams(location.search);
    input.value = params.get("q") || "";
    var wanted = params.getAll("tag").map(fold);
    tagButtons.forEach(function (button) {
      var on = wanted.indexOf(fold(button.getAttribute("data-tag"))) >= 0;
      button.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(apply, 120);
  });
  input.addEventListener("focus", load, { once: true });
  input.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    clearTimeout(timer);
    apply();
  });
  tagButtons.forEach(function (button) {
    button.addEventListener("click", function () {
      var on = button.getAttribute("aria-pressed") !== "true";
      button.setAttribute("aria-pressed", on ? "true" : "false");
      apply();
    });
  });

  box.hidden = false;
  restore();
  if (input.value || selectedTags().length) apply();
}());

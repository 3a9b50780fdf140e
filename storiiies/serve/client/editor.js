// `storiiies serve --edit` only: the editor page. Lists the project's stories, creates one from a
// form, and edits a story's steps (heading, regions with their text alternatives, text) with a
// live preview; regions are drawn on the tour in the frame beside, by the preview's own region
// picker (picker.js). Saves send the whole list of steps to /_storiiies/edit/save, which writes
// only what changed (story_write.py) and refuses a file changed on disk since it was loaded
// (409, shown with the author's unsaved steps to copy back); a refused step (422, such as a
// region without a text alternative) is shown beside that step. Every POST carries the token
// of the page in X-Storiiies-Token (guard.py). Status messages go to one live region (#ste-toast).
// Plain ES5 in one IIFE, like the tour's scripts, so any browser the preview supports runs it.
(function () {
  "use strict";
  var token = document.querySelector('meta[name="storiiies-token"]').content;
  var base = new URL("./", location.href).href; // …/_storiiies/edit/
  var root = new URL("../../", location.href).href;
  var main = document.getElementById("ste-story");
  var list = document.getElementById("ste-stories");
  var frame = document.getElementById("ste-frame");
  var frameNote = document.getElementById("ste-frame-note");
  var toast = document.getElementById("ste-toast");
  var story = null; // {file, version, title, tour, sources, steps: [...], original}
  var dirty = false;
  var saved = ""; // what the last save said, kept across re-renders until the next change
  var deleted = null; // {step, index}: the last deleted step, for Undo
  var picking = null; // {step, region}: where the next pick goes
  var previewTimers = {};
  var rebuilds = 0; // rebuild messages seen: one that came while a story loaded is not lost
  var dragFrom = null;
  var lastRegion = null; // {step, region}: the region last focused, for the thumbnails
  var canvasList = document.getElementById("ste-canvases");
  var canvasBox = document.getElementById("ste-canvases-box");

  // --- helpers -----------------------------------------------------------------------------

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function button(text, className, label) {
    var node = make("button", "ste-button" + (className ? " " + className : ""), text);
    node.type = "button";
    if (label) node.setAttribute("aria-label", label);
    return node;
  }

  var uid = 0;
  function field(parent, labelText, control, hint) {
    var id = "ste-field-" + (++uid);
    var label = make("label", "ste-label", labelText);
    label.htmlFor = id;
    control.id = id;
    parent.appendChild(label);
    parent.appendChild(control);
    if (hint) {
      var note = make("p", "ste-hint", hint);
      note.id = id + "-hint";
      control.setAttribute("aria-describedby", note.id);
      parent.appendChild(note);
    }
    return control;
  }

  function say(text) {
    toast.textContent = "";
    toast.appendChild(document.createTextNode(text));
  }

  function request(path, body, contentType) {
    var options = { cache: "no-store" };
    if (body !== undefined) {
      options.method = "POST";
      options.headers = { "Content-Type": contentType || "application/json", "X-Storiiies-Token": token };
      options.body = contentType ? body : JSON.stringify(body);
    }
    return fetch(base + path, options).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          var error = new Error(data.error || response.statusText);
          error.status = response.status;
          error.hint = data.hint || "";
          error.step = data.step || null;
          throw error;
        }
        return data;
      });
    });
  }

  function markDirty() {
    dirty = true;
    saved = "";
    var status = document.getElementById("ste-save-status");
    if (status) status.textContent = "Unsaved changes.";
  }

  // --- the list of stories -----------------------------------------------------------------

  function loadList(select) {
    return request("stories.json").then(function (data) {
      list.textContent = "";
      data.stories.forEach(function (item) {
        var entry = make("li");
        var link = make("a", "ste-story-link", item.title);
        link.href = "#" + encodeURIComponent(item.file);
        if (story && story.file === item.file) link.setAttribute("aria-current", "page");
        entry.appendChild(link);
        entry.appendChild(make("span", "ste-file", item.file));
        list.appendChild(entry);
      });
      if (select) open(select, true);
    });
  }

  window.addEventListener("hashchange", function () {
    var file = decodeURIComponent(location.hash.slice(1));
    if (file && (!story || story.file !== file)) open(file, true);
  });

  function open(file, focus) {
    if (dirty && story && story.file !== file &&
        !window.confirm("Leave " + story.file + " without saving your changes?")) return;
    var seen = rebuilds;
    return request("story.json?file=" + encodeURIComponent(file)).then(function (data) {
      story = data;
      dirty = false;
      saved = "";
      if (rebuilds !== seen) refresh();
      deleted = null;
      if (location.hash.slice(1) !== encodeURIComponent(file)) history.replaceState(null, "", "#" + encodeURIComponent(file));
      lastRegion = null;
      render();
      showTour(0);
      loadCanvases();
      Array.prototype.forEach.call(list.querySelectorAll("a"), function (link) {
        if (link.getAttribute("href") === "#" + encodeURIComponent(file)) link.setAttribute("aria-current", "page");
        else link.removeAttribute("aria-current");
      });
      if (focus) main.focus();
    }).catch(function (error) { say("Could not open " + file + ": " + error.message); });
  }

  // --- the story -----------------------------------------------------------------------------

  function render() {
    main.textContent = "";
    var head = make("div", "ste-story-head");
    head.appendChild(make("h2", "ste-story-title", story.title || story.file));
    head.appendChild(make("p", "ste-file", story.file));
    main.appendChild(head);
    if (story.problems.length) main.appendChild(problemList(story.problems));
    var steps = make("ol", "ste-steps");
    steps.setAttribute("aria-label", "Steps");
    story.steps.forEach(function (step, index) { steps.appendChild(stepItem(step, index)); });
    main.appendChild(steps);
    var add = button("Add a step", "ste-add-step");
    add.addEventListener("click", function () {
      story.steps.push({ origin: null, heading: "", regions: [{ alt: "", target: "" }], text: "", problems: [] });
      markDirty();
      render();
      var headings = main.querySelectorAll(".ste-heading");
      headings[headings.length - 1].focus();
      say("Step " + story.steps.length + " added.");
    });
    var bar = make("div", "ste-savebar");
    var save = button("Save", "ste-primary ste-save");
    save.addEventListener("click", saveStory);
    var status = make("p", "ste-save-status", dirty ? "Unsaved changes." : saved);
    status.id = "ste-save-status";
    status.setAttribute("role", "status");
    bar.appendChild(add);
    bar.appendChild(save);
    bar.appendChild(status);
    main.appendChild(bar);
  }

  function problemList(problems) {
    var box = make("ul", "ste-problems");
    box.setAttribute("aria-label", "Problems");
    problems.forEach(function (problem) {
      var item = make("li", "ste-problem ste-" + problem.severity);
      item.appendChild(make("span", "ste-where", problem.location + ": " + problem.severity + ": "));
      item.appendChild(document.createTextNode(problem.message + (problem.hint ? " — " + problem.hint : "")));
      box.appendChild(item);
    });
    return box;
  }

  function stepItem(step, index) {
    var count = story.steps.length;
    var item = make("li", "ste-step");
    item.setAttribute("aria-labelledby", "ste-step-title-" + index);
    item.dataset.index = String(index);
    var top = make("div", "ste-step-top");
    var handle = make("span", "ste-handle", "⠿");
    handle.setAttribute("aria-hidden", "true");
    handle.title = "Drag to move this step";
    // Only the grip drags, so text in the fields can still be selected with the mouse.
    handle.draggable = true;
    var title = make("h3", "ste-step-title", "Step " + (index + 1) + (step.heading ? ": " + step.heading : ""));
    title.id = "ste-step-title-" + index;
    top.appendChild(handle);
    top.appendChild(title);
    var actions = make("div", "ste-step-actions");
    var up = button("Move up", "ste-up", "Move up step " + (index + 1));
    var down = button("Move down", "ste-down", "Move down step " + (index + 1));
    var show = button("Show", "", "Show step " + (index + 1) + " in the tour");
    var remove = button("Delete", "ste-danger", "Delete step " + (index + 1));
    up.disabled = index === 0;
    down.disabled = index === count - 1;
    show.disabled = step.origin === null;
    up.addEventListener("click", function () { move(index, index - 1, "up"); });
    down.addEventListener("click", function () { move(index, index + 1, "down"); });
    show.addEventListener("click", function () { showTour(step.origin + 1); });
    remove.addEventListener("click", function () { removeStep(index); });
    [show, up, down, remove].forEach(function (node) { actions.appendChild(node); });
    top.appendChild(actions);
    item.appendChild(top);
    item.addEventListener("keydown", function (event) {
      if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
      event.preventDefault();
      move(index, index + (event.key === "ArrowUp" ? -1 : 1), event.key === "ArrowUp" ? "up" : "down");
    });
    handle.addEventListener("dragstart", function (event) {
      dragFrom = index;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", String(index));
      item.classList.add("ste-dragging");
    });
    handle.addEventListener("dragend", function () {
      item.classList.remove("ste-dragging");
      dragFrom = null;
    });
    item.addEventListener("dragover", function (event) {
      if (dragFrom === null) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
    });
    item.addEventListener("drop", function (event) {
      if (dragFrom === null) return;
      event.preventDefault();
      move(dragFrom, index, null);
    });

    if (step.problems && step.problems.length) item.appendChild(problemList(step.problems));
    var body = make("div", "ste-step-body");
    var fields = make("div", "ste-fields");
    var heading = make("input", "ste-heading");
    heading.value = step.heading;
    field(fields, "Heading", heading);
    heading.addEventListener("input", function () {
      step.heading = heading.value;
      title.textContent = "Step " + (index + 1) + (step.heading ? ": " + step.heading : "");
      markDirty();
    });

    if (story.original && story.original[index]) {
      var original = make("div", "ste-original");
      original.appendChild(make("p", "ste-original-title", "Original: " + story.original[index].heading));
      original.appendChild(make("p", "ste-original-text", story.original[index].text));
      fields.appendChild(original);
    }

    var regions = make("fieldset", "ste-regions");
    regions.appendChild(make("legend", "", step.regions.length > 1 ? "Regions (compared side by side)" : "Region"));
    step.regions.forEach(function (region, number) { regions.appendChild(regionRow(step, index, region, number)); });
    var addRegion = button(step.regions.length ? "Add a region to compare" : "Add a region", "ste-add-region",
      (step.regions.length ? "Add a region to compare, to step " : "Add a region to step ") + (index + 1));
    addRegion.addEventListener("click", function () {
      step.regions.push({ alt: "", target: "" });
      markDirty();
      render();
      var rows = main.querySelectorAll('.ste-step[data-index="' + index + '"] .ste-alt');
      rows[rows.length - 1].focus();
    });
    regions.appendChild(addRegion);
    fields.appendChild(regions);

    var text = make("textarea", "ste-text");
    text.rows = 6;
    text.value = step.text;
    field(fields, "Text", text, "Markdown: *italic*, **bold**, [a link](https://…). Shown beside the image.");
    var preview = make("div", "ste-preview");
    preview.setAttribute("aria-label", "Preview of the text of step " + (index + 1));
    preview.setAttribute("role", "region");
    text.addEventListener("input", function () {
      step.text = text.value;
      markDirty();
      schedulePreview(index, step, preview);
    });
    body.appendChild(fields);
    var side = make("div", "ste-preview-box");
    side.appendChild(make("p", "ste-preview-title", "Preview"));
    side.appendChild(preview);
    body.appendChild(side);
    item.appendChild(body);
    schedulePreview(index, step, preview, 0);
    return item;
  }

  function regionRow(step, index, region, number) {
    var row = make("div", "ste-region");
    var alt = make("input", "ste-alt");
    alt.value = region.alt;
    alt.required = true;
    field(row, "Text alternative" + (step.regions.length > 1 ? " " + (number + 1) : ""), alt,
      "Required. Say what the region shows for someone who cannot see it, in a short phrase: " +
      "“A helmeted head in profile, facing right”, not “image” or the file name.");
    alt.addEventListener("input", function () { region.alt = alt.value; markDirty(); });
    row.addEventListener("focusin", function () { lastRegion = { step: step, region: region }; });
    var target = make("input", "ste-target");
    target.value = region.target;
    target.spellcheck = false;
    field(row, "Where" + (step.regions.length > 1 ? " " + (number + 1) : ""), target,
      "The source and region, such as " + (story.sources[0] || "image") + "#xywh=10,20,300,200: " +
      "drawn on the image, or typed.");
    target.addEventListener("input", function () { region.target = target.value; markDirty(); });
    var actions = make("div", "ste-region-actions");
    var draw = button("Draw on the image", "ste-draw", "Draw on the image: region " + (number + 1) + " of step " + (index + 1));
    var view = button("Use the view", "ste-view", "Use the view for region " + (number + 1) + " of step " + (index + 1));
    var remove = button("Remove", "ste-danger", "Remove region " + (number + 1) + " of step " + (index + 1));
    draw.addEventListener("click", function () { pick(step, region, target, "start"); });
    view.addEventListener("click", function () { pick(step, region, target, "useView"); });
    remove.addEventListener("click", function () {
      step.regions.splice(number, 1);
      markDirty();
      render();
      say("Region removed from step " + (index + 1) + ".");
      var next = main.querySelector('.ste-step[data-index="' + index + '"] .ste-add-region');
      if (next) next.focus();
    });
    [draw, view, remove].forEach(function (node) { actions.appendChild(node); });
    row.appendChild(actions);
    return row;
  }

  function schedulePreview(index, step, node, delay) {
    clearTimeout(previewTimers[index]);
    previewTimers[index] = setTimeout(function () {
      request("preview", { text: step.text }).then(function (data) {
        node.innerHTML = data.html; // cleaned on the server like the tour's own text
      }).catch(function () { /* keep the last preview */ });
    }, delay === undefined ? 250 : delay);
  }

  function move(from, to, direction) {
    if (to < 0 || to >= story.steps.length || from === to) return;
    var step = story.steps.splice(from, 1)[0];
    story.steps.splice(to, 0, step);
    markDirty();
    render();
    say("Step moved to position " + (to + 1) + " of " + story.steps.length + ".");
    var item = main.querySelector('.ste-step[data-index="' + to + '"]');
    var again = direction && item.querySelector(direction === "up" ? ".ste-up" : ".ste-down");
    (again && !again.disabled ? again : item.querySelector(".ste-heading")).focus();
  }

  function removeStep(index) {
    deleted = { step: story.steps.splice(index, 1)[0], index: index };
    markDirty();
    render();
    toast.textContent = "";
    toast.appendChild(document.createTextNode("Step " + (index + 1) + " deleted. "));
    var undo = button("Undo", "ste-undo");
    undo.addEventListener("click", function () {
      if (!deleted) return;
      story.steps.splice(deleted.index, 0, deleted.step);
      var at = deleted.index;
      deleted = null;
      render();
      say("Step " + (at + 1) + " restored.");
      main.querySelector('.ste-step[data-index="' + at + '"] .ste-heading').focus();
    });
    toast.appendChild(undo);
    undo.focus();
  }

  // --- regions from the picker in the frame ------------------------------------------------

  function pick(step, region, input, how) {
    var tour = frame.contentWindow && frame.contentWindow.storiiies;
    if (frame.hidden || !tour || !tour.picker) {
      say("The image appears once the story is saved without errors; type the region meanwhile.");
      return;
    }
    picking = { region: region, input: input };
    if (how === "start") say("Drag a rectangle on the image. Escape cancels.");
    tour.picker[how]();
    if (how === "start") frame.focus();
  }

  function listenToFrame() {
    var inner = frame.contentWindow;
    if (!inner) return;
    inner.addEventListener("storiiies:pick", function (event) {
      if (!picking) return;
      var region = event.detail.region;
      picking.region.target = event.detail.ref + "#xywh=" + region.join(",");
      picking.input.value = picking.region.target;
      markDirty();
      var input = picking.input;
      picking = null;
      if (inner.storiiies && inner.storiiies.picker) inner.storiiies.picker.close();
      say("Region set to " + input.value + ".");
      input.focus();
    });
  }

  function showTour(step) {
    if (!story || !story.tour) {
      frame.hidden = true;
      frameNote.hidden = false;
      return;
    }
    var url = root + story.tour + (step ? "#step-" + step : "");
    frameNote.hidden = true;
    frame.hidden = false;
    var shown = frame.contentWindow && frame.contentWindow.storiiies;
    if (frame.dataset.tour === story.tour && shown && shown.go) {
      shown.go(step || 0);
      return;
    }
    frame.dataset.tour = story.tour;
    frame.src = url;
  }

  frame.addEventListener("load", listenToFrame);

  // --- saving --------------------------------------------------------------------------------

  function saveStory() {
    var status = document.getElementById("ste-save-status");
    status.textContent = "Saving…";
    var steps = story.steps.map(function (step) {
      return { origin: step.origin, heading: step.heading, regions: step.regions, text: step.text };
    });
    return request("save", { file: story.file, version: story.version, steps: steps }).then(function (data) {
      dirty = false;
      return request("story.json?file=" + encodeURIComponent(story.file)).then(function (fresh) {
        story = fresh;
        story.version = data.version;
        saved = "Saved to " + data.file + ".";
        render();
        main.querySelector(".ste-save").focus();
      });
    }).catch(function (error) {
      status.textContent = "";
      var message = make("p", "ste-error", "Not saved: " + error.message);
      message.setAttribute("role", "alert");
      status.appendChild(message);
      if (error.hint) message.appendChild(document.createTextNode(" " + error.hint));
      if (error.status === 409) conflict(status);
      if (error.step) besideStep(error.step - 1, error);
    });
  }

  // A step the server refused (422): the message and its hint beside that step, and focus on
  // the field to fix when it is a missing text alternative.
  function besideStep(index, error) {
    var item = main.querySelector('.ste-step[data-index="' + index + '"]');
    if (!item) return;
    var old = item.querySelector(".ste-step-error");
    if (old) old.parentNode.removeChild(old);
    var note = make("p", "ste-step-error ste-error", error.message + (error.hint ? " — " + error.hint : ""));
    note.id = "ste-step-error-" + index;
    item.insertBefore(note, item.querySelector(".ste-step-body"));
    var empty = Array.prototype.filter.call(item.querySelectorAll(".ste-alt"), function (input) {
      return !input.value.trim();
    })[0];
    if (empty) {
      empty.setAttribute("aria-invalid", "true");
      empty.setAttribute("aria-describedby", note.id + " " + (empty.getAttribute("aria-describedby") || ""));
      empty.focus();
    }
  }

  // --- the canvases of the story's sources, as thumbnails ------------------------------------

  function loadCanvases() {
    if (!story) return;
    request("canvases.json?file=" + encodeURIComponent(story.file)).then(function (data) {
      canvasList.textContent = "";
      var count = 0;
      data.sources.forEach(function (source) {
        source.canvases.forEach(function (canvas) {
          count += 1;
          var item = make("li");
          var choose = button("", "ste-canvas");
          choose.dataset.ref = canvas.ref;
          if (canvas.thumbnail) {
            var image = make("img");
            image.src = canvas.thumbnail.charAt(0) === "/" ? root + canvas.thumbnail.slice(1) : canvas.thumbnail;
            image.alt = "";
            image.loading = "lazy";
            choose.appendChild(image);
          }
          choose.appendChild(make("span", "", canvas.label + " (" + canvas.ref + ")"));
          choose.addEventListener("click", function () { useCanvas(canvas.ref); });
          item.appendChild(choose);
          canvasList.appendChild(item);
        });
      });
      canvasBox.hidden = count === 0;
    }).catch(function () { canvasBox.hidden = true; });
  }

  // A thumbnail chosen: the whole canvas goes into the region last edited (drawing a part of
  // it comes next), or into a new step when no region was.
  function useCanvas(ref) {
    var at = lastRegion ? story.steps.indexOf(lastRegion.step) : -1;
    var number = at >= 0 ? lastRegion.step.regions.indexOf(lastRegion.region) : -1;
    if (number >= 0) {
      lastRegion.region.target = ref;
      markDirty();
      render();
      main.querySelectorAll('.ste-step[data-index="' + at + '"] .ste-target')[number].focus();
      say("Step " + (at + 1) + " shows " + ref + ": draw a region on it, or keep the whole picture.");
      return;
    }
    story.steps.push({ origin: null, heading: "", regions: [{ alt: "", target: ref }], text: "", problems: [] });
    markDirty();
    render();
    var headings = main.querySelectorAll(".ste-heading");
    headings[headings.length - 1].focus();
    say("Step " + story.steps.length + " added, showing " + ref + ".");
  }

  // The file changed on disk: show it again, with the author's unsaved steps as Markdown beside.
  function conflict(status) {
    var mine = story.steps.map(function (step) {
      var lines = ["## " + step.heading, ""];
      step.regions.forEach(function (r) {
        // Escaped as the server writes it (story_edit.escape_alt), so it pastes as one image.
        var alt = r.alt.split(/\s+/).filter(Boolean).join(" ").replace(/[\\\[\]`]/g, "\\$&");
        lines.push("![" + alt + "](" + r.target + ")");
      });
      if (step.text) lines.push("", step.text);
      return lines.join("\n");
    }).join("\n\n");
    var reload = button("Reload the file");
    reload.addEventListener("click", function () {
      dirty = false;
      open(story.file).then(function () {
        var kept = make("details", "ste-unsaved");
        kept.open = true;
        kept.appendChild(make("summary", "", "Your unsaved steps, to copy back"));
        var area = make("textarea", "ste-unsaved-text");
        area.value = mine;
        area.readOnly = true;
        area.rows = 10;
        area.setAttribute("aria-label", "Your unsaved steps");
        kept.appendChild(area);
        main.insertBefore(kept, main.querySelector(".ste-steps"));
        area.focus();
      });
    });
    status.appendChild(reload);
  }

  // After each rebuild: fresh problems beside the steps; the tour appears once it builds.
  var events = new EventSource(root + "_storiiies/events");
  events.onmessage = function () {
    rebuilds += 1;
    refresh();
  };

  function refresh() {
    if (!story) return;
    request("story.json?file=" + encodeURIComponent(story.file)).then(function (fresh) {
      if (fresh.version !== story.version) return; // changed on disk: Save reports it
      var hadTour = story.tour;
      story.tour = fresh.tour;
      story.problems = fresh.problems;
      if (!dirty) {
        var focused = document.activeElement;
        var focusKey = focused && focused.id;
        story.steps = fresh.steps;
        render();
        if (focusKey && document.getElementById(focusKey)) document.getElementById(focusKey).focus();
      }
      if (!hadTour && story.tour) { showTour(0); loadCanvases(); }
    }).catch(function () { /* the next rebuild retries */ });
  }
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });

  // --- a new story ---------------------------------------------------------------------------

  var form = document.getElementById("ste-new");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var status = document.getElementById("ste-new-status");
    var file = form.elements.file.files[0];
    var source = form.elements.source.value.trim();
    status.textContent = file ? "Uploading " + file.name + "…" : "Creating…";
    var uploaded = file
      ? request("upload?name=" + encodeURIComponent(file.name.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "")),
        file, "application/octet-stream").then(function (data) { return data.source; })
      : Promise.resolve(source);
    uploaded.then(function (chosen) {
      return request("new", {
        title: form.elements.title.value, summary: form.elements.summary.value, source: chosen,
        alt: form.elements.alt.value
      });
    }).then(function (data) {
      status.textContent = "Created " + data.file + ".";
      form.reset();
      return loadList(data.file);
    }).catch(function (error) {
      status.textContent = "Not created: " + error.message + (error.hint ? " — " + error.hint : "");
    });
  });

  var first = decodeURIComponent(location.hash.slice(1));
  loadList(first || null).then(function () {
    if (!first) {
      var link = list.querySelector("a");
      if (link) open(decodeURIComponent(link.getAttribute("href").slice(1)));
    }
  });

  window.storiiiesEditor = {
    get story() { return story; },
    get dirty() { return dirty; },
    open: open,
    save: saveStory
  };
})();

// Drawing a camera's motion, privacy and detection zones over its latest snapshot.
// The three text fields stay the truth: the drawing is read from them when the page opens (and
// when someone types in them), and every change to the drawing is written back into them in the
// very format the server parses, so what is saved is exactly what was drawn. Points are fractions
// of the picture rounded to 4 decimals (a fifth of a pixel on a 1920-pixel frame).
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var KINDS = ["motion", "privacy", "detection"];
  var KIND_NAMES = { motion: "Motion zone", privacy: "Privacy zone", detection: "Detection zone" };
  var FIELDS = { motion: "motion_zones", privacy: "privacy_zones", detection: "detection_zones" };
  var MAX_POINTS = 64;
  var STEP = 0.01;

  var editor = document.getElementById("zone-editor");
  if (!editor) {
    return;
  }
  var fields = {};
  for (var k = 0; k < KINDS.length; k++) {
    fields[KINDS[k]] = document.getElementById(FIELDS[KINDS[k]]);
    if (!fields[KINDS[k]]) {
      return;
    }
  }
  var form = fields.motion.form;
  var stage = editor.querySelector(".zone-stage");
  var kindSelect = document.getElementById("zone-kind");
  var nameBox = editor.querySelector(".zone-name");
  var nameInput = document.getElementById("zone-name");
  var status = document.getElementById("zone-status");
  var list = editor.querySelector(".zone-list");
  var width = Number(editor.getAttribute("data-width")) || 1600;
  var height = Number(editor.getAttribute("data-height")) || 900;

  // zones: [{kind, name, points: [[x, y], ...], closed}]; selected: index or -1.
  var zones = [];
  var selected = -1;
  var drawing = -1;
  var drag = null;
  var svg = document.createElementNS(SVG, "svg");

  function round(value) {
    return Math.round(Math.min(1, Math.max(0, value)) * 10000) / 10000;
  }

  function say(text) {
    status.textContent = text;
  }

  // ---- the text fields <-> the drawing ------------------------------------------------------

  function parsePoints(text) {
    var points = [];
    var pairs = text.trim().split(/\s+/);
    for (var i = 0; i < pairs.length; i++) {
      var xy = pairs[i].split(",");
      var x = Number(xy[0]);
      var y = Number(xy[1]);
      if (xy.length !== 2 || xy[0] === "" || xy[1] === "" || !isFinite(x) || !isFinite(y)) {
        return null;
      }
      points.push([x, y]);
    }
    return points;
  }

  function parseField(kind) {
    var found = [];
    var lines = fields[kind].value.split(/\r?\n/);
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i].trim();
      if (!line) {
        continue;
      }
      var name = "";
      if (kind === "detection") {
        var colon = line.indexOf(":");
        if (colon < 0) {
          return null;
        }
        name = line.slice(0, colon).trim();
        line = line.slice(colon + 1);
      }
      var points = parsePoints(line);
      if (!points) {
        return null;
      }
      found.push({ kind: kind, name: name, points: points, closed: true });
    }
    return found;
  }

  function pointsText(points) {
    return points.map(function (p) { return p[0] + "," + p[1]; }).join(" ");
  }

  function writeFields() {
    for (var k = 0; k < KINDS.length; k++) {
      var kind = KINDS[k];
      var lines = [];
      for (var i = 0; i < zones.length; i++) {
        var zone = zones[i];
        if (zone.kind !== kind || !zone.points.length) {
          continue;
        }
        var text = pointsText(zone.points);
        lines.push(kind === "detection" ? zone.name + ": " + text : text);
      }
      fields[kind].value = lines.join("\n");
    }
  }

  function readFields(only) {
    var kept = zones.filter(function (zone) { return only && zone.kind !== only; });
    for (var k = 0; k < KINDS.length; k++) {
      var kind = KINDS[k];
      if (only && kind !== only) {
        continue;
      }
      var parsed = parseField(kind);
      if (parsed === null) {
        return false;
      }
      kept = kept.concat(parsed);
    }
    zones = kept;
    selected = -1;
    drawing = -1;
    return true;
  }

  // ---- drawing --------------------------------------------------------------------------------

  function el(name, attributes) {
    var node = document.createElementNS(SVG, name);
    for (var key in attributes) {
      node.setAttribute(key, attributes[key]);
    }
    return node;
  }

  function label(zone) {
    var same = zones.filter(function (other) { return other.kind === zone.kind; });
    var number = same.indexOf(zone) + 1;
    if (zone.kind === "detection") {
      return KIND_NAMES.detection + " " + (zone.name ? "\u201c" + zone.name + "\u201d" : number + " (no name yet)");
    }
    return KIND_NAMES[zone.kind] + " " + number;
  }

  function percent(value) {
    return (Math.round(value * 1000) / 10) + "%";
  }

  function pointLabel(zone, index) {
    var p = zone.points[index];
    return label(zone) + ", point " + (index + 1) + " of " + zone.points.length +
      ", " + percent(p[0]) + " from the left, " + percent(p[1]) + " from the top";
  }

  function shapePoints(zone) {
    return zone.points.map(function (p) { return (p[0] * width) + "," + (p[1] * height); }).join(" ");
  }

  // The zone's name in its middle (the mean of its points: inside any zone drawn round an area).
  function placeTag(tag, zone, radius) {
    var x = 0;
    var y = 0;
    zone.points.forEach(function (p) { x += p[0]; y += p[1]; });
    tag.setAttribute("x", String(x / zone.points.length * width));
    tag.setAttribute("y", String(y / zone.points.length * height + radius * 0.8));
  }

  function render(focus, keepText) {
    while (svg.firstChild) {
      svg.removeChild(svg.firstChild);
    }
    var radius = Math.max(width, height) * 0.011;
    for (var i = 0; i < zones.length; i++) {
      var zone = zones[i];
      var group = el("g", { "class": "zone zone-" + zone.kind + (i === selected ? " zone-selected" : "") });
      group.setAttribute("data-zone", String(i));
      var shape = el(zone.closed ? "polygon" : "polyline", { points: shapePoints(zone), "class": "zone-shape" });
      shape.setAttribute("data-zone", String(i));
      group.appendChild(shape);
      if (zone.points.length) {
        var tag = el("text", { "class": "zone-tag" });
        tag.setAttribute("font-size", String(radius * 2.2));
        tag.textContent = zone.kind === "detection" ? (zone.name || "(name?)") : label(zone);
        placeTag(tag, zone, radius);
        group.appendChild(tag);
      }
      for (var j = 0; j < zone.points.length; j++) {
        var handle = el("circle", {
          cx: zone.points[j][0] * width, cy: zone.points[j][1] * height, r: radius,
          "class": "zone-point", tabindex: "0", role: "button"
        });
        handle.setAttribute("data-zone", String(i));
        handle.setAttribute("data-point", String(j));
        handle.setAttribute("aria-label", pointLabel(zone, j));
        group.appendChild(handle);
      }
      svg.appendChild(group);
    }
    renderList();
    renderTools();
    if (!keepText) {
      writeFields();
    }
    if (focus) {
      var target = svg.querySelector('[data-zone="' + focus[0] + '"][data-point="' + focus[1] + '"]');
      if (target) {
        target.focus();
      }
    }
  }

  // Moving a point only moves what is drawn: rebuilding would lose a drag's pointer capture.
  function place(zoneIndex, pointIndex) {
    var zone = zones[zoneIndex];
    var group = svg.querySelector('g[data-zone="' + zoneIndex + '"]');
    group.querySelector(".zone-shape").setAttribute("points", shapePoints(zone));
    var handle = group.querySelector('[data-point="' + pointIndex + '"]');
    handle.setAttribute("cx", String(zone.points[pointIndex][0] * width));
    handle.setAttribute("cy", String(zone.points[pointIndex][1] * height));
    handle.setAttribute("aria-label", pointLabel(zone, pointIndex));
    placeTag(group.querySelector(".zone-tag"), zone, Math.max(width, height) * 0.011);
    writeFields();
  }

  function renderList() {
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    if (!zones.length) {
      var none = document.createElement("li");
      none.className = "zone-none";
      none.textContent = "No zones yet: click the picture to start one.";
      list.appendChild(none);
    }
    zones.forEach(function (zone, i) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "zone-chip zone-chip-" + zone.kind;
      button.setAttribute("aria-pressed", i === selected ? "true" : "false");
      button.setAttribute("data-select", String(i));
      var count = zone.points.length + " point" + (zone.points.length === 1 ? "" : "s");
      button.textContent = label(zone) + " \u00b7 " + count + (zone.closed ? "" : " (open)");
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  function renderTools() {
    var zone = selected >= 0 ? zones[selected] : null;
    editor.querySelector('[data-zone-action="finish"]').disabled = drawing < 0;
    editor.querySelector('[data-zone-action="delete"]').disabled = !zone;
    editor.querySelector('[data-zone-action="add"]').disabled = !zone || zone.points.length >= MAX_POINTS;
    var named = zone && zone.kind === "detection";
    nameBox.hidden = !named;
    if (named && document.activeElement !== nameInput) {
      nameInput.value = zone.name;
    }
    stage.classList.toggle("zone-stage-drawing", drawing >= 0);
  }

  // ---- editing --------------------------------------------------------------------------------

  function select(index) {
    selected = index;
    if (index >= 0 && zones[index].kind !== kindSelect.value) {
      kindSelect.value = zones[index].kind;
    }
  }

  function startZone() {
    if (drawing >= 0) {
      finishZone();
    }
    zones.push({ kind: kindSelect.value, name: "", points: [], closed: false });
    drawing = zones.length - 1;
    select(drawing);
    say("Drawing a new " + KIND_NAMES[kindSelect.value].toLowerCase() + ": click the picture to add points.");
  }

  function finishZone() {
    if (drawing < 0) {
      return;
    }
    var zone = zones[drawing];
    drawing = -1;
    if (!zone.points.length) {
      zones.splice(zones.indexOf(zone), 1);
      selected = -1;
      say("Nothing drawn: the empty zone is gone.");
      return;
    }
    zone.closed = true;
    say(label(zone) + " finished with " + zone.points.length + " points." +
      (zone.points.length < 3 ? " It needs at least 3 before it can be saved." : "") +
      (zone.kind === "detection" && !zone.name ? " Give it a name." : ""));
  }

  function deleteZone(index) {
    var gone = label(zones[index]);
    zones.splice(index, 1);
    if (drawing === index) {
      drawing = -1;
    } else if (drawing > index) {
      drawing -= 1;
    }
    selected = -1;
    say(gone + " deleted.");
  }

  function addPoint(zoneIndex, point, after) {
    var zone = zones[zoneIndex];
    if (zone.points.length >= MAX_POINTS) {
      say("A zone has at most " + MAX_POINTS + " points.");
      return -1;
    }
    var at = after === undefined ? zone.points.length : after + 1;
    zone.points.splice(at, 0, [round(point[0]), round(point[1])]);
    return at;
  }

  function deletePoint(zoneIndex, pointIndex) {
    var zone = zones[zoneIndex];
    zone.points.splice(pointIndex, 1);
    if (!zone.points.length) {
      deleteZone(zoneIndex);
      return null;
    }
    say("Point removed; " + label(zone) + " has " + zone.points.length + " points.");
    return [zoneIndex, Math.min(pointIndex, zone.points.length - 1)];
  }

  // A point for keyboard drawing: a small square's corners for the first three, then halfway
  // along the edge after the chosen point.
  function nextPoint(zone, after) {
    var starts = [[0.4, 0.4], [0.6, 0.4], [0.6, 0.6]];
    if (zone.points.length < 3) {
      return starts[zone.points.length];
    }
    var a = zone.points[after];
    var b = zone.points[(after + 1) % zone.points.length];
    return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
  }

  function fraction(event) {
    var box = stage.getBoundingClientRect();
    return [(event.clientX - box.left) / box.width, (event.clientY - box.top) / box.height];
  }

  function focusedPoint() {
    var active = document.activeElement;
    if (active && active.classList && active.classList.contains("zone-point")) {
      return [Number(active.getAttribute("data-zone")), Number(active.getAttribute("data-point"))];
    }
    return null;
  }

  svg.addEventListener("click", function (event) {
    if (drag && drag.moved) {
      return;
    }
    var target = event.target;
    if (target.classList.contains("zone-point")) {
      var zi = Number(target.getAttribute("data-zone"));
      if (zi === drawing && Number(target.getAttribute("data-point")) === 0 && zones[zi].points.length >= 3) {
        finishZone();
        render();
      }
      return;
    }
    // Inside another zone too: a detection zone is often drawn within a motion zone. A zone is
    // chosen by one of its points or in the list below the picture.
    if (drawing < 0) {
      startZone();
    }
    var at = addPoint(drawing, fraction(event));
    if (at >= 0) {
      say(pointLabel(zones[drawing], at) + " added.");
    }
    render();
  });

  svg.addEventListener("pointerdown", function (event) {
    var target = event.target;
    if (!target.classList.contains("zone-point") || event.button !== 0) {
      return;
    }
    event.preventDefault();
    var zi = Number(target.getAttribute("data-zone"));
    var pi = Number(target.getAttribute("data-point"));
    drag = { zone: zi, point: pi, moved: false };
    target.setPointerCapture(event.pointerId);
    if (selected !== zi) {
      select(zi);
      editor.querySelectorAll(".zone").forEach(function (g) {
        g.classList.toggle("zone-selected", Number(g.getAttribute("data-zone")) === zi);
      });
      renderList();
      renderTools();
    }
    // Selected first: focusing a point of another zone would otherwise rebuild the drawing
    // and lose the pointer capture.
    target.focus();
  });

  svg.addEventListener("pointermove", function (event) {
    if (!drag) {
      return;
    }
    var p = fraction(event);
    drag.moved = true;
    zones[drag.zone].points[drag.point] = [round(p[0]), round(p[1])];
    place(drag.zone, drag.point);
  });

  function endDrag() {
    if (!drag) {
      return;
    }
    var done = drag;
    if (done.moved) {
      say(pointLabel(zones[done.zone], done.point) + ".");
      render([done.zone, done.point]);
    }
    // The click that follows a drag must not add a point: forget the drag after it.
    setTimeout(function () { drag = null; }, 0);
  }
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);

  svg.addEventListener("keydown", function (event) {
    var at = focusedPoint();
    if (!at) {
      return;
    }
    var zone = zones[at[0]];
    var point = zone.points[at[1]];
    var step = event.shiftKey ? STEP * 5 : (event.altKey ? STEP / 10 : STEP);
    var moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[event.key]) {
      event.preventDefault();
      zone.points[at[1]] = [round(point[0] + moves[event.key][0]), round(point[1] + moves[event.key][1])];
      place(at[0], at[1]);
      say(pointLabel(zone, at[1]) + ".");
    } else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      var next = deletePoint(at[0], at[1]);
      render(next);
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      select(at[0]);
      if (drawing === at[0]) {
        finishZone();
      }
      render(at);
    }
  });

  svg.addEventListener("focusin", function () {
    var at = focusedPoint();
    if (at && selected !== at[0]) {
      select(at[0]);
      render(at);
    }
  });

  editor.addEventListener("click", function (event) {
    var action = event.target.getAttribute && event.target.getAttribute("data-zone-action");
    var choice = event.target.getAttribute && event.target.getAttribute("data-select");
    if (choice !== null && choice !== undefined) {
      if (drawing >= 0 && drawing !== Number(choice)) {
        finishZone();
      }
      select(Number(choice));
      say(label(zones[selected]) + " chosen: Tab to its points to move them, or delete it.");
      render();
      return;
    }
    if (action === "new") {
      startZone();
      render();
    } else if (action === "finish") {
      finishZone();
      render();
    } else if (action === "delete" && selected >= 0) {
      deleteZone(selected);
      render();
    } else if (action === "add" && selected >= 0) {
      var zone = zones[selected];
      var at = focusedPoint();
      var after = at && at[0] === selected ? at[1] : zone.points.length - 1;
      var added = addPoint(selected, nextPoint(zone, after), zone.points.length < 3 ? undefined : after);
      if (added >= 0) {
        say(pointLabel(zone, added) + " added.");
        render([selected, added]);
      }
    }
  });

  kindSelect.addEventListener("change", function () {
    if (drawing >= 0 && !zones[drawing].points.length) {
      zones[drawing].kind = kindSelect.value;
      render();
    }
  });

  nameInput.addEventListener("input", function () {
    if (selected >= 0 && zones[selected].kind === "detection") {
      zones[selected].name = nameInput.value.replace(/:/g, "").trim();
      render();
    }
  });

  KINDS.forEach(function (kind) {
    fields[kind].addEventListener("input", function () {
      if (readFields(kind)) {
        render(null, true);
        say("The drawing follows the text.");
      } else {
        say("The text is not a list of zones yet; the drawing shows the last zones it could read.");
      }
    });
  });

  // Refuse to send what the server would refuse: it would answer 422 and the drawing would be lost.
  form.addEventListener("submit", function (event) {
    if (drawing >= 0) {
      finishZone();
      render();
    }
    for (var i = 0; i < zones.length; i++) {
      var zone = zones[i];
      var problem = "";
      if (zone.points.length < 3) {
        problem = label(zone) + " has " + zone.points.length + " point" + (zone.points.length === 1 ? "" : "s") +
          "; a zone needs at least 3. Add points or delete it.";
      } else if (zone.kind === "detection" && !zone.name) {
        problem = "Give this detection zone a name before saving.";
      } else if (zone.kind === "detection" && zones.some(function (other, j) {
        return j < i && other.kind === "detection" && other.name.toLowerCase() === zone.name.toLowerCase();
      })) {
        problem = "Two detection zones are named \u201c" + zone.name + "\u201d; give each its own name.";
      }
      if (problem) {
        event.preventDefault();
        select(i);
        render();
        say(problem);
        (zone.kind === "detection" && zone.points.length >= 3 ? nameInput : list.querySelector('[data-select="' + i + '"]')).focus();
        return;
      }
    }
  });

  // ---- start ----------------------------------------------------------------------------------

  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.setAttribute("class", "zone-overlay");
  svg.setAttribute("aria-label", "Zones over the picture");
  svg.setAttribute("role", "group");
  svg.setAttribute("data-testid", "zone-overlay");
  stage.style.aspectRatio = width + " / " + height;
  stage.appendChild(svg);
  if (!readFields(null)) {
    say("The zones below are not in the usual form; fix the text to draw them.");
  }
  editor.hidden = false;
  render();
}());

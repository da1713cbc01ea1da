// Drawing a camera's motion, privacy and detection zones over its latest snapshot.
// The three text fields stay the truth: the drawing is read from them when the page opens (and
// when someone types in them), and every change to the drawing is written back into them in the
// very format the server parses (zones_text.js), so what is saved is exactly what was drawn.
// zones_draw.js draws; this file keeps the zones and answers the mouse and the keyboard.
(function () {
  "use strict";
  var KINDS = ["motion", "privacy", "detection"];
  var FIELDS = { motion: "motion_zones", privacy: "privacy_zones", detection: "detection_zones" };
  var NEW_NAMES = { motion: "motion zone", privacy: "privacy zone", detection: "detection zone" };
  var MAX_POINTS = 64;
  var STEP = 0.01;

  var editor = document.getElementById("zone-editor");
  var kit = window.DoorstepZones;
  if (!editor || !kit || !kit.text || !kit.draw) {
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
  var round = kit.text.round;

  // zones: [{kind, name, points: [[x, y], ...], closed}]; selected and drawing: an index or -1.
  var zones = [];
  var selected = -1;
  var drawing = -1;
  var drag = null;
  // The point last focused or clicked: "Add point" adds after it, "Remove point" removes it.
  var chosen = null;
  var picture = kit.draw.picture(stage, width, height);
  var svg = picture.svg;

  function say(text) {
    status.textContent = text;
  }

  function label(zone) {
    return kit.draw.label(zones, zone);
  }

  function pointLabel(zone, index) {
    return kit.draw.pointLabel(zones, zone, index);
  }

  function writeFields() {
    KINDS.forEach(function (kind) {
      fields[kind].value = kit.text.format(kind, zones);
    });
  }

  function readFields(only) {
    var kept = zones.filter(function (zone) { return only && zone.kind !== only; });
    for (var k = 0; k < KINDS.length; k++) {
      if (only && KINDS[k] !== only) {
        continue;
      }
      var parsed = kit.text.parse(KINDS[k], fields[KINDS[k]].value);
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

  function render(focus, keepText) {
    picture.draw(zones, selected);
    kit.draw.list(list, zones, selected);
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

  function place(zoneIndex, pointIndex) {
    picture.place(zones, zoneIndex, pointIndex);
    writeFields();
  }

  function renderTools() {
    var zone = selected >= 0 ? zones[selected] : null;
    editor.querySelector('[data-zone-action="finish"]').disabled = drawing < 0;
    editor.querySelector('[data-zone-action="delete"]').disabled = !zone;
    editor.querySelector('[data-zone-action="add"]').disabled = !zone || zone.points.length >= MAX_POINTS;
    editor.querySelector('[data-zone-action="remove"]').disabled = !zone || !zone.points.length;
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
    say("Drawing a new " + NEW_NAMES[kindSelect.value] + ": click the picture to add points.");
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

  function chosenPoint() {
    var ok = chosen && chosen[0] === selected && chosen[1] < zones[selected].points.length;
    return ok ? chosen[1] : null;
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
    var at = addPoint(drawing, picture.at(event));
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
      picture.select(zi);
      kit.draw.list(list, zones, selected);
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
    var p = picture.at(event);
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
    chosen = at || chosen;
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
    } else if (action === "remove" && selected >= 0) {
      var point = chosenPoint();
      chosen = deletePoint(selected, point === null ? zones[selected].points.length - 1 : point);
      render();
    } else if (action === "add" && selected >= 0) {
      var zone = zones[selected];
      var at = chosenPoint();
      var after = at === null ? zone.points.length - 1 : at;
      var added = addPoint(selected, kit.text.nextPoint(zone, after), zone.points.length < 3 ? undefined : after);
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
      var problem = kit.text.problem(zones, i, label(zone));
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

  if (!readFields(null)) {
    say("The zones below are not in the usual form; fix the text to draw them.");
  }
  editor.hidden = false;
  render();
}());

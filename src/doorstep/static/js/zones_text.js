// The zones' text fields, read and written for the drawing in static/js/zones.js: the very
// format the server parses (cameras/rules.py, rules_detection.py), one zone per line as
// "x,y x,y x,y" or, for detection zones, "name: x,y x,y x,y"; points are fractions of the picture.
(function () {
  "use strict";
  var zones = window.DoorstepZones = window.DoorstepZones || {};

  // 4 decimals: a fifth of a pixel on a 1920-pixel frame.
  function round(value) {
    return Math.round(Math.min(1, Math.max(0, value)) * 10000) / 10000;
  }

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

  // The zones of one kind in ``text``, or null when it is not a list of zones (yet).
  function parse(kind, text) {
    var found = [];
    var lines = text.split(/\r?\n/);
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

  // The text for the zones of one kind: numbers as JavaScript writes them, exactly as drawn.
  function format(kind, all) {
    var lines = [];
    for (var i = 0; i < all.length; i++) {
      var zone = all[i];
      if (zone.kind !== kind || !zone.points.length) {
        continue;
      }
      var text = zone.points.map(function (p) { return p[0] + "," + p[1]; }).join(" ");
      lines.push(kind === "detection" ? zone.name + ": " + text : text);
    }
    return lines.join("\n");
  }

  // Why the server would refuse zone ``index`` (its words), or "" when it would not.
  // Names compare as the server compares them: runs of spaces as one, case folded (upper then
  // lower case, so "Straße" and "STRASSE" are one name, as Python's casefold makes them).
  function foldName(name) {
    return name.split(/\s+/).filter(Boolean).join(" ").toUpperCase().toLowerCase();
  }

  function sameName(first, second) {
    return foldName(first) === foldName(second);
  }

  function problem(all, index, label) {
    var zone = all[index];
    var count = zone.points.length;
    if (count < 3) {
      return label + " has " + count + " point" + (count === 1 ? "" : "s") +
        "; a zone needs at least 3. Add points or delete it.";
    }
    if (zone.kind !== "detection") {
      return "";
    }
    if (!zone.name) {
      return "Give this detection zone a name before saving.";
    }
    for (var j = 0; j < index; j++) {
      if (all[j].kind === "detection" && sameName(all[j].name, zone.name)) {
        return "Two detection zones are named \u201c" + zone.name + "\u201d; give each its own name.";
      }
    }
    return "";
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

  zones.text = { round: round, parse: parse, format: format, problem: problem, nextPoint: nextPoint };
}());

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

  // As the server checks it (cameras.rules.edges_cross): two edges that are not neighbours meet.
  function turn(a, b, c) {
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
  }

  function onSegment(a, b, p) {
    return Math.min(a[0], b[0]) <= p[0] && p[0] <= Math.max(a[0], b[0]) &&
      Math.min(a[1], b[1]) <= p[1] && p[1] <= Math.max(a[1], b[1]);
  }

  function segmentsMeet(a, b, c, d) {
    var d1 = turn(c, d, a), d2 = turn(c, d, b), d3 = turn(a, b, c), d4 = turn(a, b, d);
    if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) {
      return true;
    }
    return (d1 === 0 && onSegment(c, d, a)) || (d2 === 0 && onSegment(c, d, b)) ||
      (d3 === 0 && onSegment(a, b, c)) || (d4 === 0 && onSegment(a, b, d));
  }

  function edgesCross(points) {
    var count = points.length;
    for (var i = 0; i < count; i++) {
      for (var j = i + 2; j < count; j++) {
        if (i === 0 && j === count - 1) {
          continue;
        }
        if (segmentsMeet(points[i], points[(i + 1) % count], points[j], points[(j + 1) % count])) {
          return true;
        }
      }
    }
    return false;
  }

  function problem(all, index, label) {
    var zone = all[index];
    var count = zone.points.length;
    if (count < 3) {
      return label + " has " + count + " point" + (count === 1 ? "" : "s") +
        "; a zone needs at least 3. Add points or delete it.";
    }
    if (edgesCross(zone.points)) {
      return label + "’s edges cross; move a point so they don’t.";
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

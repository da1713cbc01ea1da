// What static/js/zones.js draws: the zones as SVG shapes over the picture, each point a focusable
// handle named for screen readers, and the list of zones under the picture.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var KIND_NAMES = { motion: "Motion zone", privacy: "Privacy zone", detection: "Detection zone" };
  var zones = window.DoorstepZones = window.DoorstepZones || {};

  function el(name, attributes) {
    var node = document.createElementNS(SVG, name);
    for (var key in attributes) {
      node.setAttribute(key, String(attributes[key]));
    }
    return node;
  }

  function label(all, zone) {
    var number = all.filter(function (other) { return other.kind === zone.kind; }).indexOf(zone) + 1;
    if (zone.kind === "detection") {
      return KIND_NAMES.detection + " " + (zone.name ? "\u201c" + zone.name + "\u201d" : number + " (no name yet)");
    }
    return KIND_NAMES[zone.kind] + " " + number;
  }

  function percent(value) {
    return (Math.round(value * 1000) / 10) + "%";
  }

  function pointLabel(all, zone, index) {
    var p = zone.points[index];
    return label(all, zone) + ", point " + (index + 1) + " of " + zone.points.length +
      ", " + percent(p[0]) + " from the left, " + percent(p[1]) + " from the top";
  }

  // A drawing of zones over ``stage``, in a view box the picture's ``width`` × ``height``.
  function picture(stage, width, height) {
    var radius = Math.max(width, height) * 0.011;
    var svg = el("svg", {
      viewBox: "0 0 " + width + " " + height, "class": "zone-overlay", role: "group",
      "aria-label": "Zones over the picture", "data-testid": "zone-overlay"
    });
    stage.style.aspectRatio = width + " / " + height;
    stage.appendChild(svg);

    // Where a pointer event is, as fractions of the picture (not yet rounded).
    function at(event) {
      var box = stage.getBoundingClientRect();
      return [(event.clientX - box.left) / box.width, (event.clientY - box.top) / box.height];
    }

    function shapePoints(zone) {
      return zone.points.map(function (p) { return (p[0] * width) + "," + (p[1] * height); }).join(" ");
    }

    // The zone's name in its middle (the mean of its points: inside any zone drawn round an area).
    function placeTag(tag, zone) {
      var x = 0;
      var y = 0;
      zone.points.forEach(function (p) { x += p[0]; y += p[1]; });
      tag.setAttribute("x", String(x / zone.points.length * width));
      tag.setAttribute("y", String(y / zone.points.length * height + radius * 0.8));
    }

    function draw(all, selected) {
      while (svg.firstChild) {
        svg.removeChild(svg.firstChild);
      }
      all.forEach(function (zone, i) {
        var group = el("g", { "class": "zone zone-" + zone.kind + (i === selected ? " zone-selected" : ""), "data-zone": i });
        group.appendChild(el(zone.closed ? "polygon" : "polyline", { points: shapePoints(zone), "class": "zone-shape", "data-zone": i }));
        if (zone.points.length) {
          var tag = el("text", { "class": "zone-tag", "font-size": radius * 2.2 });
          tag.textContent = zone.kind === "detection" ? (zone.name || "(name?)") : label(all, zone);
          placeTag(tag, zone);
          group.appendChild(tag);
        }
        zone.points.forEach(function (p, j) {
          group.appendChild(el("circle", {
            cx: p[0] * width, cy: p[1] * height, r: radius, "class": "zone-point", tabindex: 0,
            role: "button", "data-zone": i, "data-point": j, "aria-label": pointLabel(all, zone, j)
          }));
        });
        svg.appendChild(group);
      });
    }

    // Moving a point only moves what is drawn: rebuilding would lose a drag's pointer capture.
    function place(all, zoneIndex, pointIndex) {
      var zone = all[zoneIndex];
      var group = svg.querySelector('g[data-zone="' + zoneIndex + '"]');
      group.querySelector(".zone-shape").setAttribute("points", shapePoints(zone));
      var handle = group.querySelector('[data-point="' + pointIndex + '"]');
      handle.setAttribute("cx", String(zone.points[pointIndex][0] * width));
      handle.setAttribute("cy", String(zone.points[pointIndex][1] * height));
      handle.setAttribute("aria-label", pointLabel(all, zone, pointIndex));
      placeTag(group.querySelector(".zone-tag"), zone);
    }

    function select(index) {
      svg.querySelectorAll(".zone").forEach(function (group) {
        group.classList.toggle("zone-selected", Number(group.getAttribute("data-zone")) === index);
      });
    }

    return { svg: svg, at: at, draw: draw, place: place, select: select };
  }

  // The zones as buttons that choose one, under the picture.
  function list(element, all, selected) {
    while (element.firstChild) {
      element.removeChild(element.firstChild);
    }
    if (!all.length) {
      var none = document.createElement("li");
      none.className = "zone-none";
      none.textContent = "No zones yet: click the picture to start one.";
      element.appendChild(none);
    }
    all.forEach(function (zone, i) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "zone-chip zone-chip-" + zone.kind;
      button.setAttribute("aria-pressed", i === selected ? "true" : "false");
      button.setAttribute("data-select", String(i));
      var count = zone.points.length + " point" + (zone.points.length === 1 ? "" : "s");
      button.textContent = label(all, zone) + " \u00b7 " + count + (zone.closed ? "" : " (open)");
      item.appendChild(button);
      element.appendChild(item);
    });
  }

  zones.draw = { picture: picture, list: list, label: label, pointLabel: pointLabel };
}());

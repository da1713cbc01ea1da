/* Drawing areas on the street map with leaflet-geoman: a Request for Assistance's area (a circle
 * or a polygon, measured live in square miles and refused here outside the policy's limits or
 * the jurisdiction) and an agency's jurisdiction (drawn, or read from a GeoJSON file). Drawing
 * only fills the form's text fields, which stay what is sent; the server still decides. */
(function () {
  "use strict";
  var M = window.DoorstepMap;
  var L = window.L;
  if (!M || !L || !L.PM) {
    return;
  }
  var DIGITS = 6;

  function fixed(value) {
    return M.round(value, DIGITS);
  }

  function ringOf(latlngs) {
    // Leaflet nests polygon rings; the outer ring of the first polygon is what is drawn here.
    var ring = latlngs;
    while (ring.length && Array.isArray(ring[0])) {
      ring = ring[0];
    }
    return ring;
  }

  function geojsonRing(ring) {
    var positions = ring.map(function (p) {
      return [fixed(p.lng), fixed(p.lat)];
    });
    positions.push(positions[0].slice());
    return positions;
  }

  function addControls(map, options) {
    map.pm.setLang("en");
    map.pm.addControls(
      Object.assign(
        {
          position: "topleft",
          drawMarker: false,
          drawCircleMarker: false,
          drawPolyline: false,
          drawText: false,
          drawRectangle: true,
          drawPolygon: true,
          drawCircle: true,
          editMode: true,
          dragMode: true,
          cutPolygon: false,
          removalMode: true,
          rotateMode: false,
        },
        options
      )
    );
    // geoman titles the buttons' boxes, not the buttons: name each button for screen readers.
    map.getContainer().querySelectorAll(".button-container[title]").forEach(function (box) {
      var button = box.querySelector(".leaflet-buttons-control-button");
      if (button) {
        button.setAttribute("aria-label", box.getAttribute("title"));
      }
    });
    map.pm.setPathOptions({ className: "map-drawn" });
    map.pm.setGlobalOptions({ allowSelfIntersection: false, snappable: false });
  }

  function setRefused(layer, refused) {
    var element = layer && layer.getElement && layer.getElement();
    if (element) {
      element.classList.toggle("map-refused", refused);
    }
  }

  /* --- a Request for Assistance's area -------------------------------------------------------- */

  function areaDrawer(root) {
    var form = root.closest("form");
    var data = M.readJson(root.getAttribute("data-map-data")) || {};
    var mapElement = root.querySelector("[data-draw-map]");
    var meter = root.querySelector("[data-area-meter]");
    var centre = form.elements.namedItem("centre");
    var radius = form.elements.namedItem("radius_m");
    var polygonField = form.elements.namedItem("polygon");
    var outline = data.outline || [];
    var minSqMi = data.min_sq_mi;
    var maxSqMi = data.max_sq_mi;
    root.hidden = false;
    var map = M.make(mapElement);
    var jurisdiction = outline.length ? M.polygon(outline, M.styles.outline).addTo(map) : null;
    (data.cells || []).forEach(function (cell) {
      M.polygon(cell.ring, Object.assign({}, M.styles.cell, { fillOpacity: (cell.level || 0.4) * 0.5 })).addTo(map);
    });
    M.fit(map, jurisdiction ? [jurisdiction] : []);
    addControls(map, {});

    var shape = null;
    // A shape drawn on the map is checked here before sending; one typed into the fields is
    // drawn for reference and left to the server, which gives the reason for any refusal.
    var drawn = false;

    function measure(layer) {
      if (layer instanceof L.Circle) {
        var r = layer.getRadius();
        var points = M.circlePoints(layer.getLatLng(), r / Math.cos(Math.PI / 64), 64);
        return { sqMi: M.circleAreaM2(r) / M.SQ_M_PER_SQ_MI, points: points };
      }
      var ring = ringOf(layer.getLatLngs());
      return { sqMi: M.ringAreaM2(ring) / M.SQ_M_PER_SQ_MI, points: ring };
    }

    function judge(measured) {
      var text = "Area: " + measured.sqMi.toFixed(3) + " sq mi";
      if (measured.sqMi > maxSqMi) {
        return { ok: false, text: text + ": too large. Draw at most " + maxSqMi + " sq mi." };
      }
      if (measured.sqMi < minSqMi) {
        return { ok: false, text: text + ": too small. Draw at least " + minSqMi + " sq mi." };
      }
      var outside = outline.length && measured.points.some(function (p) {
        return !M.inRegion(p, outline);
      });
      if (outside) {
        return { ok: false, text: text + ": part of it is outside your jurisdiction." };
      }
      return { ok: true, text: text + " (allowed: " + minSqMi + "–" + maxSqMi + " sq mi)." };
    }

    function show(verdict) {
      meter.textContent = verdict.text;
      meter.classList.toggle("map-problem", !verdict.ok);
      meter.classList.toggle("map-ok", verdict.ok);
      meter.setAttribute("data-area-ok", verdict.ok ? "yes" : "no");
    }

    function fill() {
      if (!shape) {
        return;
      }
      if (shape instanceof L.Circle) {
        var c = shape.getLatLng();
        centre.value = fixed(c.lat).toFixed(DIGITS) + ", " + fixed(c.lng).toFixed(DIGITS);
        radius.value = String(M.round(shape.getRadius(), 1));
        polygonField.value = "";
      } else {
        var geometry = { type: "Polygon", coordinates: [geojsonRing(ringOf(shape.getLatLngs()))] };
        polygonField.value = JSON.stringify(geometry);
        centre.value = "";
        radius.value = "";
      }
    }

    function update() {
      if (!shape) {
        meter.textContent = "No area drawn yet.";
        meter.classList.remove("map-problem", "map-ok");
        meter.removeAttribute("data-area-ok");
        return;
      }
      var verdict = judge(measure(shape));
      show(verdict);
      setRefused(shape, !verdict.ok);
    }

    function adopt(layer, byHand) {
      if (shape && shape !== layer) {
        map.removeLayer(shape);
      }
      shape = layer;
      drawn = byHand;
      layer.on("pm:change pm:edit pm:drag pm:markerdrag pm:markerdragend pm:dragend", function () {
        drawn = true;
        fill();
        update();
      });
      // The shape is editable at once: its corners (a circle's centre and rim) can be dragged
      // without first finding the edit tool. Only this shape: the overlays ignore geoman.
      if (layer.pm && map.hasLayer(layer)) {
        layer.pm.enable({ allowSelfIntersection: false, snappable: false });
      }
      update();
    }

    map.on("pm:create", function (event) {
      adopt(event.layer, true);
      fill();
      update();
    });
    map.on("pm:remove", function (event) {
      if (event.layer === shape) {
        shape = null;
        centre.value = radius.value = polygonField.value = "";
        update();
      }
    });

    // Live while drawing: the circle's radius follows the pointer; a polygon's next corner too.
    var working = null;
    map.on("pm:drawstart", function (event) {
      working = event.workingLayer;
    });
    map.on("pm:drawend", function () {
      working = null;
    });
    map.on("mousemove", function (event) {
      // The layer being drawn now: by the time the timeout runs the drawing may have ended.
      var layer = working;
      if (!layer || !map.hasLayer(layer)) {
        return;
      }
      window.setTimeout(function () {
        if (!map.hasLayer(layer)) {
          return;
        }
        if (layer instanceof L.Circle) {
          if (layer.getRadius() > 0) {
            show(judge(measure(layer)));
          }
        } else if (layer.getLatLngs) {
          var ring = ringOf(layer.getLatLngs()).concat([event.latlng]);
          if (ring.length >= 3) {
            show(judge({ sqMi: M.ringAreaM2(ring) / M.SQ_M_PER_SQ_MI, points: ring }));
          }
        }
      }, 0);
    });

    /* What the fields hold, drawn (after a refusal the form comes back with them). */
    function fromFields() {
      var layer = null;
      if (polygonField.value.trim()) {
        try {
          var geometry = JSON.parse(polygonField.value);
          if (geometry && geometry.type === "Polygon") {
            layer = L.geoJSON(geometry, { style: { className: "map-drawn" } }).getLayers()[0];
          }
        } catch (err) {
          layer = null;
        }
      } else if (centre.value.trim() && Number(radius.value) > 0) {
        var parts = centre.value.split(",").map(Number);
        if (parts.length === 2 && isFinite(parts[0]) && isFinite(parts[1])) {
          layer = L.circle(parts, { radius: Number(radius.value), className: "map-drawn" });
        }
      }
      if (shape) {
        map.removeLayer(shape);
        shape = null;
      }
      if (layer) {
        layer.addTo(map);
        adopt(layer, false);
      } else {
        update();
      }
    }

    [centre, radius, polygonField].forEach(function (field) {
      field.addEventListener("change", fromFields);
    });
    fromFields();

    form.addEventListener("submit", function (event) {
      if (!shape || !drawn) {
        return;
      }
      var verdict = judge(measure(shape));
      if (!verdict.ok) {
        event.preventDefault();
        show(verdict);
        meter.setAttribute("role", "alert");
        mapElement.scrollIntoView({ block: "center" });
      }
    });
  }

  /* --- an agency's jurisdiction --------------------------------------------------------------- */

  function geometryOf(value) {
    if (!value || typeof value !== "object") {
      return null;
    }
    if (value.type === "Feature") {
      return geometryOf(value.geometry);
    }
    if (value.type === "FeatureCollection" && Array.isArray(value.features)) {
      var polygons = [];
      value.features.forEach(function (feature) {
        var geometry = geometryOf(feature);
        if (geometry && geometry.type === "Polygon") {
          polygons.push(geometry.coordinates);
        } else if (geometry && geometry.type === "MultiPolygon") {
          polygons = polygons.concat(geometry.coordinates);
        }
      });
      if (!polygons.length) {
        return null;
      }
      return polygons.length === 1
        ? { type: "Polygon", coordinates: polygons[0] }
        : { type: "MultiPolygon", coordinates: polygons };
    }
    if (value.type === "Polygon" || value.type === "MultiPolygon") {
      return { type: value.type, coordinates: value.coordinates };
    }
    return null;
  }

  function jurisdictionDrawer(root) {
    var field = document.getElementById(root.getAttribute("data-field"));
    var file = document.getElementById(root.getAttribute("data-file"));
    var status = root.querySelector("[data-jurisdiction-status]");
    var limit = Number(root.getAttribute("data-max-bytes")) || 200000;
    root.hidden = false;
    var map = M.make(root.querySelector("[data-draw-map]"));
    addControls(map, { drawCircle: false });
    var shown = L.featureGroup().addTo(map);

    function say(text, problem) {
      status.textContent = text;
      status.classList.toggle("map-problem", Boolean(problem));
    }

    function write() {
      var polygons = [];
      shown.eachLayer(function (layer) {
        if (layer.getLatLngs) {
          polygons.push([geojsonRing(ringOf(layer.getLatLngs()))]);
        }
      });
      if (!polygons.length) {
        field.value = "";
        say("Nothing drawn yet.");
        return;
      }
      var geometry =
        polygons.length === 1
          ? { type: "Polygon", coordinates: polygons[0] }
          : { type: "MultiPolygon", coordinates: polygons };
      field.value = JSON.stringify(geometry);
      say(polygons.length + (polygons.length === 1 ? " area" : " areas") + " drawn; the GeoJSON below is what is sent.");
    }

    function watch(layer) {
      layer.on("pm:edit pm:change pm:dragend", write);
    }

    function draw(geometry, fitView) {
      shown.clearLayers();
      L.geoJSON(geometry).eachLayer(function (layer) {
        // A MultiPolygon comes as one layer: split it so each part can be edited alone.
        var parts = layer.feature.geometry.type === "MultiPolygon" ? layer.getLatLngs() : [layer.getLatLngs()];
        parts.forEach(function (latlngs) {
          var part = L.polygon(latlngs, { className: "map-drawn" });
          shown.addLayer(part);
          watch(part);
        });
      });
      if (fitView && shown.getLayers().length) {
        M.fit(map, [shown]);
      }
    }

    function fromField() {
      if (!field.value.trim()) {
        return;
      }
      try {
        var geometry = geometryOf(JSON.parse(field.value));
        if (geometry) {
          draw(geometry, true);
          say("The outline below is drawn on the map.");
          return;
        }
        say("That GeoJSON holds no Polygon or MultiPolygon.", true);
      } catch (err) {
        say("That is not valid GeoJSON yet.", true);
      }
    }

    map.on("pm:create", function (event) {
      map.removeLayer(event.layer);
      var part = L.polygon(event.layer.getLatLngs(), { className: "map-drawn" });
      shown.addLayer(part);
      watch(part);
      write();
    });
    map.on("pm:remove", function (event) {
      shown.removeLayer(event.layer);
      write();
    });
    field.addEventListener("change", fromField);

    if (file) {
      file.addEventListener("change", function () {
        var chosen = file.files && file.files[0];
        if (!chosen) {
          return;
        }
        if (chosen.size > limit) {
          say("That file is over " + Math.round(limit / 1000) + " kB: simplify the outline first.", true);
          file.value = "";
          return;
        }
        chosen.text().then(function (text) {
          try {
            var geometry = geometryOf(JSON.parse(text));
            if (!geometry) {
              say("That file holds no Polygon or MultiPolygon.", true);
              return;
            }
            field.value = JSON.stringify(geometry);
            draw(geometry, true);
            say("Read " + chosen.name + ": check the outline on the map.");
          } catch (err) {
            say("That file is not valid GeoJSON.", true);
          }
        });
      });
    }

    if (field.value.trim()) {
      fromField();
    } else {
      M.defaultView(map);
    }
  }

  function start() {
    document.querySelectorAll("[data-area-drawer]").forEach(areaDrawer);
    document.querySelectorAll("[data-jurisdiction-drawer]").forEach(jurisdictionDrawer);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

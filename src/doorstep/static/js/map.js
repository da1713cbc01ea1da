/* Street maps on Doorstep's pages: Leaflet over the PMTiles base map Doorstep serves itself.
 *
 * Progressive enhancement: every map element starts hidden next to the server's SVG map (or the
 * text fields it fills); this script shows the map and hides the SVG. Nothing is fetched from
 * another origin: the base map is /maps/base.pmtiles, read by range requests. Data comes from
 * <script type="application/json"> blocks, never from inline scripts.
 */
(function () {
  "use strict";
  var L = window.L;
  if (!L) {
    return;
  }

  var SQ_M_PER_SQ_MI = 2589988.110336;
  // The server's sphere (geo/_shapes.py EARTH_RADIUS_M), so both sides measure alike.
  var EARTH_RADIUS_M = 6371007.2;
  var registry = {};

  function readJson(id) {
    var element = id && document.getElementById(id);
    if (!element) {
      return null;
    }
    try {
      return JSON.parse(element.textContent);
    } catch (err) {
      return null;
    }
  }

  function escapeHtml(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  }

  var base = readJson("base-map");

  function prefersDark() {
    return Boolean(window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
  }

  /* A Leaflet map in ``element`` over the base map, or over a plain background without one. */
  function make(element, options) {
    element.hidden = false;
    var fallback = element.getAttribute("data-map-fallback");
    var replaced = fallback && document.getElementById(fallback);
    if (replaced) {
      // An <svg> has no "hidden" property: the attribute and a display rule say it for both.
      replaced.setAttribute("hidden", "");
      replaced.style.display = "none";
    }
    var map = L.map(element, Object.assign({ zoomSnap: 0.25, maxZoom: 19 }, options || {}));
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    if (base && base.tile_type === "mvt" && window.protomapsL) {
      window.protomapsL
        .leafletLayer({
          url: base.url,
          flavor: prefersDark() ? "dark" : "light",
          lang: "en",
          maxDataZoom: base.max_zoom,
          // No tile is asked for, or painted as empty land, outside the archive.
          bounds: base.bounds
            ? [
                [base.bounds[1], base.bounds[0]],
                [base.bounds[3], base.bounds[2]],
              ]
            : undefined,
          attribution: escapeHtml(base.attribution || ""),
        })
        .addTo(map);
      element.classList.add("has-base");
    } else {
      element.classList.add("no-base");
    }
    if (element.id) {
      registry[element.id] = map;
    }
    return map;
  }

  /* Where to look when nothing is drawn: the base map's centre, else a wide view. */
  function defaultView(map) {
    if (base && base.centre) {
      map.setView(base.centre, Math.min(Math.max(base.min_zoom + 3, 14), base.max_zoom + 1));
    } else {
      map.setView([20, 0], 2);
    }
  }

  /* The lowest zoom at which the base map shows its streets. protomaps-leaflet draws a 512 px
   * tile from the data one zoom below it (its levelDiff, 1): under the archive's lowest zoom plus
   * one it finds no tile and paints an empty grey block. A wide outline (a fire district) is
   * fitted no further out than that; the reader may still zoom out. */
  function streetsZoom() {
    if (base && base.tile_type === "mvt" && window.protomapsL) {
      return Math.min(base.min_zoom + 1, base.max_zoom);
    }
    return 0;
  }

  function fit(map, layers, padding) {
    var bounds = null;
    layers.forEach(function (layer) {
      if (layer && layer.getBounds) {
        var b = layer.getBounds();
        if (b.isValid()) {
          bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
        }
      }
    });
    if (bounds) {
      var pad = padding || 16;
      var zoom = map.getBoundsZoom(bounds, false, L.point(2 * pad, 2 * pad));
      map.setView(bounds.getCenter(), Math.max(zoom, streetsZoom()));
      return true;
    }
    defaultView(map);
    return false;
  }

  var STYLES = {
    outline: { className: "map-outline", weight: 2, fillOpacity: 0.06 },
    area: { className: "map-area", weight: 2, fillOpacity: 0.35 },
    request: { className: "map-request", weight: 2, fill: false },
    cell: { className: "map-cell", weight: 1 },
    home: { className: "map-home-cell", weight: 2, dashArray: "5 4", fillOpacity: 0.12 },
  };

  // An overlay (a jurisdiction, a cell, a request) is shown, never edited: geoman leaves it alone.
  function polygon(rings, style) {
    return L.polygon(rings, Object.assign({ interactive: false, pmIgnore: true }, style));
  }

  /* The overlays a page already shows as SVG, now in degrees over the street map. */
  function overlayMap(element) {
    var data = readJson(element.getAttribute("data-map-data"));
    if (!data) {
      return;
    }
    var map = make(element, { scrollWheelZoom: false });
    var layers = [];
    var cells = [];
    if (data.outline && data.outline.length) {
      layers.push(polygon(data.outline, STYLES.outline).addTo(map));
    }
    (data.cells || []).forEach(function (cell) {
      var style = Object.assign({}, STYLES.cell, {
        // Translucent even where busiest, so the streets under a cell stay readable.
        fillOpacity: Math.min(0.65, (cell.level || 0.4) * 0.6),
        interactive: true,
        pmIgnore: true,
        className: "map-cell" + (cell.home ? " map-home-cell" : ""),
      });
      var shape = L.polygon(cell.ring, style).addTo(map);
      var unit = element.getAttribute("data-map-unit") || "camera";
      var label = cell.count + " " + unit + (cell.count === 1 ? "" : "s") + (cell.home ? " (your area)" : "");
      shape.bindTooltip(label, { sticky: true });
      layers.push(shape);
      cells.push(shape);
    });
    (data.requests || []).forEach(function (ring) {
      cells.push(polygon(ring, STYLES.request).addTo(map));
    });
    (data.areas || []).forEach(function (ring, index) {
      var label = (data.area_labels || [])[index];
      var shape = polygon(ring, Object.assign({}, STYLES.area, { interactive: Boolean(label) }));
      if (label) {
        shape.bindTooltip(label, { sticky: true });
      }
      layers.push(shape.addTo(map));
    });
    // Where there is something to see: the request's area on its page; else the cells (and
    // requests) with cameras or posts, not a whole jurisdiction's empty streets; else everything.
    if ((data.areas || []).length && element.hasAttribute("data-map-focus-area")) {
      fit(map, layers.slice(-data.areas.length), 40);
    } else {
      fit(map, cells.length ? cells : layers, 24);
    }
  }

  /* Square metres enclosed by a ring of LatLngs on the sphere (no self-intersection). */
  function ringAreaM2(latlngs) {
    var n = latlngs.length;
    if (n < 3) {
      return 0;
    }
    var rad = Math.PI / 180;
    var total = 0;
    for (var i = 0; i < n; i++) {
      var p1 = latlngs[i];
      var p2 = latlngs[(i + 1) % n];
      total += (p2.lng - p1.lng) * rad * (2 + Math.sin(p1.lat * rad) + Math.sin(p2.lat * rad));
    }
    return Math.abs((total * EARTH_RADIUS_M * EARTH_RADIUS_M) / 2);
  }

  /* A circle as the server measures it: the 64-sided polygon that encloses it. */
  function circleAreaM2(radius) {
    var sides = 64;
    return sides * radius * radius * Math.tan(Math.PI / sides);
  }

  function pointInRing(latlng, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var yi = ring[i][0];
      var xi = ring[i][1];
      var yj = ring[j][0];
      var xj = ring[j][1];
      if (yi > latlng.lat !== yj > latlng.lat && latlng.lng < ((xj - xi) * (latlng.lat - yi)) / (yj - yi) + xi) {
        inside = !inside;
      }
    }
    return inside;
  }

  function inRegion(latlng, rings) {
    return rings.some(function (ring) {
      return pointInRing(latlng, ring);
    });
  }

  /* Points around a circle, for checking it lies inside a jurisdiction. */
  function circlePoints(centre, radius, count) {
    var points = [];
    var angular = radius / EARTH_RADIUS_M;
    var lat1 = (centre.lat * Math.PI) / 180;
    var lon1 = (centre.lng * Math.PI) / 180;
    for (var k = 0; k < count; k++) {
      var bearing = (2 * Math.PI * k) / count;
      var lat2 = Math.asin(
        Math.sin(lat1) * Math.cos(angular) + Math.cos(lat1) * Math.sin(angular) * Math.cos(bearing)
      );
      var lon2 =
        lon1 +
        Math.atan2(
          Math.sin(bearing) * Math.sin(angular) * Math.cos(lat1),
          Math.cos(angular) - Math.sin(lat1) * Math.sin(lat2)
        );
      points.push(L.latLng((lat2 * 180) / Math.PI, (lon2 * 180) / Math.PI));
    }
    return points;
  }

  function round(value, digits) {
    var scale = Math.pow(10, digits);
    return Math.round(value * scale) / scale;
  }

  window.DoorstepMap = {
    base: base,
    registry: registry,
    make: make,
    fit: fit,
    defaultView: defaultView,
    readJson: readJson,
    styles: STYLES,
    polygon: polygon,
    ringAreaM2: ringAreaM2,
    circleAreaM2: circleAreaM2,
    circlePoints: circlePoints,
    inRegion: inRegion,
    round: round,
    SQ_M_PER_SQ_MI: SQ_M_PER_SQ_MI,
  };

  function start() {
    document.querySelectorAll("[data-map=overlay]").forEach(overlayMap);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

/* The home picker at sign-up and in account settings: search an address, click the map, or use
 * the browser's location. It only fills the "home" text field, which stays the form's value and
 * the accessible way to type a position. The exact point is drawn for its owner only; the public
 * cell others see is drawn beside it when the page has one (the saved home's). */
(function () {
  "use strict";
  var M = window.DoorstepMap;
  if (!M) {
    return;
  }
  var L = window.L;
  // Six decimals of a degree: about 0.1 m, finer than any home needs and what the field shows.
  var DIGITS = 6;

  function parse(text) {
    var parts = (text || "").split(",");
    if (parts.length !== 2) {
      return null;
    }
    var lat = Number(parts[0].trim());
    var lon = Number(parts[1].trim());
    if (!parts[0].trim() || !parts[1].trim() || !isFinite(lat) || !isFinite(lon)) {
      return null;
    }
    if (Math.abs(lat) > 90 || Math.abs(lon) > 180) {
      return null;
    }
    return L.latLng(lat, lon);
  }

  function csrfToken(element) {
    var form = element.closest("form");
    var field = form && form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function picker(root) {
    var input = document.getElementById(root.getAttribute("data-home-input"));
    var data = M.readJson(root.getAttribute("data-home-data")) || {};
    var mapElement = root.querySelector("[data-home-map]");
    var status = root.querySelector("[data-home-status]");
    var results = root.querySelector("[data-place-results]");
    var search = root.querySelector("[data-home-search]");
    var searchButton = root.querySelector("[data-home-search-button]");
    var locate = root.querySelector("[data-home-locate]");
    if (!input || !mapElement) {
      return;
    }
    root.hidden = false;
    var map = M.make(mapElement);
    var marker = null;
    var cell = null;
    if (data.cell) {
      cell = M.polygon(data.cell, M.styles.home).addTo(map);
      cell.bindTooltip("The area others see", { sticky: true });
    }

    function say(text, problem) {
      status.textContent = text;
      status.classList.toggle("map-problem", Boolean(problem));
    }

    function place(latlng, zoom) {
      if (!marker) {
        marker = L.marker(latlng, {
          draggable: true,
          keyboard: false,
          title: "Your home",
          icon: L.divIcon({ className: "map-home-point", iconSize: [18, 18] }),
        }).addTo(map);
        marker.on("dragend", function () {
          choose(marker.getLatLng(), null, "Moved.");
        });
      } else {
        marker.setLatLng(latlng);
      }
      if (zoom) {
        map.setView(latlng, Math.max(map.getZoom(), zoom));
      }
    }

    function choose(latlng, zoom, how) {
      var lat = M.round(latlng.lat, DIGITS);
      var lon = M.round(L.Util.wrapNum(latlng.lng, [-180, 180], true), DIGITS);
      input.value = lat.toFixed(DIGITS) + ", " + lon.toFixed(DIGITS);
      input.dispatchEvent(new Event("change", { bubbles: true }));
      place(L.latLng(lat, lon), zoom);
      var note = cell ? " The outlined area others see changes when you save." : "";
      say((how ? how + " " : "") + "Home set to " + input.value + "; only you see this point." + note);
    }

    var start = parse(input.value);
    if (start) {
      place(start);
      var layers = cell ? [cell, L.polyline([start, start])] : [L.polyline([start, start])];
      M.fit(map, layers, 40);
      if (!cell) {
        map.setView(start, 17);
      }
    } else {
      M.defaultView(map);
    }

    map.on("click", function (event) {
      choose(event.latlng, null, "");
    });
    input.addEventListener("input", function () {
      var typed = parse(input.value);
      if (typed) {
        place(typed, 16);
      }
    });

    function showPlaces(places) {
      results.textContent = "";
      places.forEach(function (found) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "link-button";
        button.textContent = found.label;
        button.addEventListener("click", function () {
          results.textContent = "";
          search.value = found.label;
          choose(L.latLng(found.lat, found.lon), 17, found.label + ":");
        });
        item.appendChild(button);
        results.appendChild(item);
      });
    }

    // POST /api/v1/places answers with at most five places, best first.
    var PLACES_SHOWN = 5;

    function runSearch() {
      var query = search.value.trim();
      if (!query) {
        say("Type an address to search for.", true);
        return;
      }
      say("Searching…");
      fetch("/api/v1/places", {
        method: "POST",
        credentials: "same-origin",
        headers: { "content-type": "application/json", "x-csrf-token": csrfToken(root) },
        body: JSON.stringify({ query: query }),
      })
        .then(function (response) {
          return response.json().then(function (body) {
            return { ok: response.ok, body: body };
          });
        })
        .then(function (answer) {
          if (!answer.ok) {
            say(answer.body.detail || answer.body.title || "Address search failed; click the map instead.", true);
            showPlaces([]);
            return;
          }
          var places = answer.body.places || [];
          showPlaces(places);
          if (!places.length) {
            say("No address found; try another spelling, or click the map.", true);
          } else if (places.length === 1) {
            choose(L.latLng(places[0].lat, places[0].lon), 17, places[0].label + ":");
            results.textContent = "";
          } else if (places.length >= PLACES_SHOWN) {
            // The server sends at most this many and does not say whether there were more.
            say("The first " + places.length + " addresses found (up to " + PLACES_SHOWN +
              " are shown): choose yours, or type more of the address if it is not there.");
          } else {
            say(places.length + " addresses found: choose yours.");
          }
        })
        .catch(function () {
          say("Address search is unavailable; click the map instead.", true);
        });
    }

    if (search && searchButton) {
      searchButton.addEventListener("click", runSearch);
      search.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          // Enter searches; it must not send the whole form half filled.
          event.preventDefault();
          runSearch();
        }
      });
    }

    if (locate) {
      if (!navigator.geolocation) {
        locate.hidden = true;
      }
      locate.addEventListener("click", function () {
        say("Asking your browser where you are…");
        navigator.geolocation.getCurrentPosition(
          function (position) {
            choose(L.latLng(position.coords.latitude, position.coords.longitude), 17, "Your location:");
          },
          function (err) {
            say(
              err.code === 1
                ? "Your browser did not allow the location; search or click the map instead."
                : "Your location could not be found; search or click the map instead.",
              true
            );
          },
          { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
        );
      });
    }
  }

  function start() {
    document.querySelectorAll("[data-home-picker]").forEach(picker);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

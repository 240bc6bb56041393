/* The results map, loaded only when the visitor asks for it (see seeker.js).
   Drawn from files this site serves: US state boundaries (us-atlas, US Census Bureau data) and the pins of
   the results page, read from this site's own search API with the page's own query. No tile server is
   contacted unless the operator configured one AND the visitor presses the button that names it.
   Pins are the public points the search index holds: confidential places only ever have their rounded,
   approximate point there. */
(function () {
  "use strict";

  var map = null;
  var pins = null;
  var tilesShown = false;

  function attr(el, name) { return el.getAttribute("data-" + name) || ""; }

  function status(panel, message) {
    var node = panel.querySelector("[data-map-status]");
    if (node) { node.textContent = message; }
  }

  function drawStates(toggle) {
    return fetch(attr(toggle, "states"), { credentials: "omit" })
      .then(function (r) { return r.json(); })
      .then(function (us) {
        var states = window.topojson.feature(us, us.objects.states);
        window.L.geoJSON(states, {
          interactive: false,
          style: { color: "#5b6770", weight: 1, fillColor: "#eef2f4", fillOpacity: 1 }
        }).addTo(map);
      });
  }

  function create(panel, toggle) {
    var box = panel.querySelector("[data-map]");
    map = window.L.map(box, { attributionControl: true, zoomSnap: 0.5, minZoom: 2, maxZoom: 16 });
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution(attr(toggle, "credit"));
    map.setView([39.5, -96], 3);
    // The map is a picture of the list beside it: give it a name for screen readers and keyboards.
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", attr(toggle, "label"));
    pins = window.L.layerGroup().addTo(map);
    var tileButton = panel.querySelector("[data-tiles-load]");
    if (tileButton) {
      tileButton.hidden = false;
      tileButton.addEventListener("click", function () {
        if (tilesShown) { return; }
        tilesShown = true;
        window.L.tileLayer(attr(toggle, "tiles"), { attribution: attr(toggle, "tiles-credit"), maxZoom: 19 }).addTo(map);
        tileButton.disabled = true;
      });
    }
    return drawStates(toggle);
  }

  function popup(hit) {
    var div = document.createElement("div");
    var a = document.createElement("a");
    a.href = hit.url;
    a.textContent = hit.name;
    div.appendChild(a);
    if (hit.approximate) {
      var note = document.createElement("p");
      note.textContent = document.querySelector("[data-map-toggle]").getAttribute("data-approximate");
      div.appendChild(note);
    }
    return div;
  }

  function addPin(hit, n, bounds, toggle) {
    var icon = window.L.divIcon({
      className: "map-pin" + (hit.approximate ? " approximate" : ""),
      html: String(n),
      iconSize: [32, 32]
    });
    var marker = window.L.marker([hit.lat, hit.lng], { icon: icon, title: hit.name, keyboard: true });
    marker.bindPopup(popup(hit));
    marker.addTo(pins);
    var el = marker.getElement();
    if (el) {
      el.setAttribute("aria-label", n + ". " + hit.name + (hit.approximate ? " (" + attr(toggle, "approximate") + ")" : ""));
      el.setAttribute("data-lat", String(hit.lat));
      el.setAttribute("data-lng", String(hit.lng));
      el.setAttribute("data-service", hit.service_id);
    }
    bounds.push([hit.lat, hit.lng]);
  }

  function drawPins(panel, toggle) {
    var url = attr(toggle, "api") + window.location.search;
    return fetch(url, { credentials: "omit", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { hits: [] }; })
      .then(function (data) {
        pins.clearLayers();
        var bounds = [];
        var placed = 0;
        (data.hits || []).forEach(function (hit, i) {
          if (typeof hit.lat !== "number" || typeof hit.lng !== "number") { return; }
          addPin(hit, i + 1, bounds, toggle);
          placed += 1;
        });
        if (bounds.length) { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 13 }); }
        status(panel, attr(toggle, "placed").replace("{n}", String(placed)));
        panel.setAttribute("data-ready", "true");
      });
  }

  window.ResultsMap = {
    open: function (panel, toggle) {
      panel.removeAttribute("data-ready");
      var ready = map ? Promise.resolve() : create(panel, toggle);
      map.invalidateSize();
      return ready.then(function () { return drawPins(panel, toggle); });
    }
  };
}());

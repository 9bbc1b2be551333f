/* Shared by the pages. Everything that came from the air or an aggregator is put
   into the page with textContent (never innerHTML), so a callsign cannot be markup. */
var fw = (function () {
  "use strict";
  var FENCE = {color: "#e7298a", weight: 2, dashArray: "6 4", fillOpacity: 0.04};
  var COVERAGE = {color: "#1b9e77", weight: 1, dashArray: "2 4", fillOpacity: 0.03};
  var RECEIVER = {radius: 5, color: "#1b9e77", fillOpacity: 0.9};
  var BORDER = {color: "#6b6b6b", weight: 1, fill: false, className: "fw-border"};

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function getJSON(url) {
    return fetch(url, {headers: {"Accept": "application/json"}}).then(function (answer) {
      return answer.json().then(function (body) {
        if (!answer.ok) { throw new Error(body.error || answer.statusText); }
        return body;
      });
    });
  }

  function drawBorders(map) {
    var drawn = null;
    return function () {
      if (drawn) { return; }
      drawn = L.layerGroup().addTo(map);
      getJSON("/api/borders").then(function (borders) {
        L.geoJSON(borders, {style: BORDER, interactive: false}).addTo(drawn);
      });
    };
  }

  /* A map with the tiles the settings name; with none, or when tiles fail to load,
     country borders are drawn instead so the fences and aircraft keep a context. */
  function makeMap(id, settings) {
    var map = L.map(id, {preferCanvas: false});
    var borders = drawBorders(map);
    if (settings.tiles_url) {
      var tiles = L.tileLayer(settings.tiles_url,
                              {maxZoom: 18, attribution: settings.tiles_attribution});
      tiles.on("tileerror", borders);
      tiles.addTo(map);
    } else {
      borders();
    }
    L.control.scale().addTo(map);
    map.setView([53.7, 28.0], 6);
    return map;
  }

  function drawFences(map, fit) {
    return getJSON("/api/fences").then(function (fences) {
      var layer = L.geoJSON(fences, {style: FENCE});
      layer.eachLayer(function (fence) {
        fence.bindTooltip(el("span", fence.feature.properties.name));
      });
      layer.addTo(map);
      if (fit && fences.features.length) { map.fitBounds(layer.getBounds()); }
      return layer;
    });
  }

  // Each receiver's learned coverage (the farthest it heard, any height) and where it is.
  function drawCoverage(map) {
    return getJSON("/api/coverage").then(function (coverage) {
      var layer = L.geoJSON(coverage, {style: COVERAGE});
      layer.eachLayer(function (outline) {
        var p = outline.feature.properties;
        outline.bindTooltip(el("span", "coverage of " + p.receiver + ": heard to " +
                               Math.round(p.max_km) + " km"));
        L.circleMarker([p.lat, p.lon], RECEIVER).bindTooltip(
          el("span", "receiver " + p.receiver)).addTo(map);
      });
      layer.addTo(map);
      return layer;
    });
  }

  function params() { return new URLSearchParams(window.location.search); }

  /* The aircraft box of a form: six hex digits are an address, anything else a
     registration. */
  function aircraftQuery(text, query) {
    var value = (text || "").trim();
    if (!value) { return; }
    if (/^[0-9a-fA-F]{6}$/.test(value)) { query.set("icao", value); }
    else { query.set("registration", value); }
  }

  function fillForm(form, query) {
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && query.has(field.name)) { field.value = query.get(field.name); }
    });
  }

  function when(iso) { return iso ? iso.slice(0, 19).replace("T", " ") : ""; }

  function feet(value) {
    return value === null || value === undefined ? "" : Math.round(value) + " ft";
  }

  function row(table, cells, className) {
    var line = table.insertRow();
    if (className) { line.className = className; }
    cells.forEach(function (cell) {
      var td = line.insertCell();
      if (cell instanceof Node) { td.appendChild(cell); } else { td.textContent = cell; }
    });
    return line;
  }

  function link(href, text) {
    var a = el("a", text);
    a.href = href;
    return a;
  }

  function status(text, isError) {
    var box = document.getElementById("status");
    box.textContent = text;
    box.className = isError ? "status error" : "status";
  }

  function start(page) {
    getJSON("/api/settings").then(page).catch(function (err) {
      status("flightwatch is not answering: " + err.message, true);
    });
  }

  return {el: el, getJSON: getJSON, makeMap: makeMap, drawFences: drawFences,
          drawCoverage: drawCoverage,
          params: params, aircraftQuery: aircraftQuery, fillForm: fillForm, when: when,
          feet: feet, row: row, link: link, status: status, start: start};
})();

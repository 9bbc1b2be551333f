/* Shared by the pages. Everything that came from the air or an aggregator is put
   into the page with textContent (never innerHTML), so a callsign cannot be markup,
   and through shown(), so an invisible character cannot hide in it. */
var fw = (function () {
  "use strict";
  var FENCE = {color: "#e7298a", weight: 2, dashArray: "6 4", fillOpacity: 0.04};
  var BORDER = {color: "#6b6b6b", weight: 1, fill: false, className: "fw-border"};
  var escaped = null;  /* the settings' shown_as_escapes: decoder/safe_text.py's table */

  /* Text as the terminal and the mail show it: a control, zero-width, bidi or tag
     character as its escape (RSD\u200b016 does not pass for RSD016), written as
     decoder/safe_text.py's escape() writes it. */
  function shown(text) {
    var value = String(text);
    if (!escaped) { return value; }
    return value.replace(escaped, function (ch) {
      var code = ch.codePointAt(0);
      var named = {9: "\\t", 10: "\\n", 13: "\\r"}[code];
      if (named) { return named; }
      var hex = code.toString(16);
      if (code < 0x100) { return "\\x" + ("0" + hex).slice(-2); }
      return code <= 0xffff ? "\\u" + ("000" + hex).slice(-4)
                            : "\\U" + ("0000000" + hex).slice(-8);
    });
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = shown(text); }
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
        map.attributionControl.addAttribution("Borders: Natural Earth");
      });
    };
  }

  /* A map with the tiles the settings name; with none, or when tiles fail to load,
     country borders are drawn instead so the fences and aircraft keep a context. */
  function makeMap(id, settings) {
    var map = L.map(id, {preferCanvas: false});
    var borders = drawBorders(map);
    if (settings.tiles_url) {
      /* The tiles' credit shows once a tile is on screen: a map offline credits no one
         for tiles it could not load. */
      var tiles = L.tileLayer(settings.tiles_url, {maxZoom: 18});
      tiles.on("tileerror", borders);
      tiles.once("tileload", function () {
        map.attributionControl.addAttribution(settings.tiles_attribution);
      });
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
      if (cell instanceof Node) { td.appendChild(cell); } else { td.textContent = shown(cell); }
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
    getJSON("/api/settings").then(function (settings) {
      escaped = new RegExp(settings.shown_as_escapes, "gu");
      return page(settings);
    }).catch(function (err) {
      status("flightwatch is not answering: " + err.message, true);
    });
  }

  return {el: el, shown: shown, getJSON: getJSON, makeMap: makeMap, drawFences: drawFences,
          params: params, aircraftQuery: aircraftQuery, fillForm: fillForm, when: when,
          feet: feet, row: row, link: link, status: status, start: start};
})();

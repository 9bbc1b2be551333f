/* Places on every map: towns and airports for the view and its zoom level, the receiver
   and its learned coverage outline, each credited in the attribution line only while it
   is drawn. Names come from /api/places and go in as text, never as markup. */
(function () {
  "use strict";
  var TOWN = {radius: 2.5, color: "#3c3c3c", weight: 1, fillColor: "#3c3c3c", fillOpacity: 1,
              className: "fw-town"};
  var AIRPORT = {radius: 4, color: "#08306b", weight: 2, fillColor: "#ffffff", fillOpacity: 1,
                 className: "fw-airport"};
  var RECEIVER = {radius: 6, color: "#000000", weight: 2, fillColor: "#000000",
                  fillOpacity: 1, className: "fw-receiver"};
  var COVERAGE = {color: "#3182bd", weight: 1.5, dashArray: "4 3", fillOpacity: 0.03,
                  className: "fw-coverage"};

  function label(marker, text, className) {
    marker.bindTooltip(fw.el("span", text), {permanent: true, direction: "right",
                                              offset: [4, 0], className: className});
    return marker;
  }

  fw.drawPlaces = function (map) {
    var layer = L.layerGroup().addTo(map);
    var credited = [];
    var asked = 0;

    function credit(texts) {
      credited.forEach(function (text) { map.attributionControl.removeAttribution(text); });
      texts.forEach(function (text) { map.attributionControl.addAttribution(text); });
      credited = texts;
    }

    function draw(places) {
      layer.clearLayers();
      places.coverage.forEach(function (outline) {
        L.polygon(outline.points, COVERAGE)
          .bindTooltip(fw.el("span", "coverage of " + outline.receiver + ", " + outline.band))
          .addTo(layer);
      });
      places.towns.forEach(function (town) {
        label(L.circleMarker([town.lat, town.lon], TOWN), town.name, "fw-town-label")
          .addTo(layer);
      });
      places.airports.forEach(function (airport) {
        label(L.circleMarker([airport.lat, airport.lon], AIRPORT), airport.code,
              "fw-airport-label")
          .bindPopup(fw.el("span", airport.code + " " + airport.name)).addTo(layer);
      });
      if (places.receiver) {
        label(L.circleMarker([places.receiver.lat, places.receiver.lon], RECEIVER),
              "receiver " + places.receiver.name, "fw-receiver-label").addTo(layer);
      }
      credit(places.credits);
    }

    function load() {
      var view = map.getBounds(), number = ++asked;
      var query = new URLSearchParams({
        south: Math.max(view.getSouth(), -90), west: view.getWest(),
        north: Math.min(view.getNorth(), 90), east: view.getEast(), zoom: map.getZoom()
      });
      fw.getJSON("/api/places?" + query.toString()).then(function (places) {
        if (number === asked) { draw(places); }  // an older answer arriving late is dropped
      }).catch(function (err) {
        fw.status("places: " + err.message, true);
      });
    }

    map.on("moveend", load);
    load();
    return layer;
  };
})();

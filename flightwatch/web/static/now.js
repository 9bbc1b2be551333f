/* The Now page: every tracked aircraft on the map, refreshed every few seconds;
   watched ones highlighted and labelled, and listed beside the map. */
(function () {
  "use strict";
  var OTHER = {radius: 4, color: "#3a3a3a", weight: 1, fillColor: "#9ecae1", fillOpacity: 0.9};
  var WATCHED = {radius: 8, color: "#7a0019", weight: 2, fillColor: "#e31a1c", fillOpacity: 1};

  function name(plane) {
    return plane.registration || plane.callsign || plane.icao;
  }

  function label(plane) {
    var box = fw.el("div", null, "fw-label");
    box.appendChild(fw.el("b", name(plane)));
    var who = [plane.callsign, plane.icao].filter(Boolean).join(" · ");
    box.appendChild(fw.el("div", who));
    var what = [plane.aircraft_type, plane.operator].filter(Boolean).join(", ");
    if (what) { box.appendChild(fw.el("div", what)); }
    box.appendChild(fw.el("div", plane.on_ground ? "on the ground" : fw.feet(plane.altitude_ft)));
    return box;
  }

  fw.start(function (settings) {
    var map = fw.makeMap("map", settings);
    fw.drawPlaces(map);
    fw.drawFences(map, true);
    var layer = L.layerGroup().addTo(map);
    var markers = {};

    function place(plane) {
      var marker = markers[plane.icao];
      if (marker && marker.watched !== plane.watched) {
        layer.removeLayer(marker);
        marker = null;
      }
      if (!marker) {
        var style = L.extend({className: "fw-aircraft" + (plane.watched ? " fw-watched" : "")},
                             plane.watched ? WATCHED : OTHER);
        marker = L.circleMarker([plane.lat, plane.lon], style).addTo(layer);
        marker.watched = plane.watched;
        marker.bindTooltip(label(plane), {permanent: plane.watched, direction: "right"});
        markers[plane.icao] = marker;
      } else {
        marker.setLatLng([plane.lat, plane.lon]);
        marker.setTooltipContent(label(plane));
      }
      if (plane.watched) { marker.bringToFront(); }
    }

    function list(planes) {
      var body = document.querySelector("#watched tbody");
      body.replaceChildren();
      planes.filter(function (p) { return p.watched; }).forEach(function (plane) {
        var who = fw.el("div");
        who.appendChild(fw.link("/aircraft?icao=" + plane.icao + "&since=24h", name(plane)));
        who.appendChild(fw.el("div", [plane.callsign, plane.icao].filter(Boolean).join(" · "),
                              "muted"));
        var what = [plane.aircraft_type, plane.operator].filter(Boolean).join(", ");
        fw.row(body, [who, what, plane.on_ground ? "ground" : fw.feet(plane.altitude_ft),
                      fw.when(plane.time).slice(11)], "watched");
      });
      document.getElementById("none").hidden = body.rows.length > 0;
    }

    function refresh() {
      fw.getJSON("/api/aircraft").then(function (planes) {
        var seen = {};
        planes.forEach(function (plane) {
          seen[plane.icao] = true;
          place(plane);
        });
        Object.keys(markers).forEach(function (icao) {
          if (!seen[icao]) {
            layer.removeLayer(markers[icao]);
            delete markers[icao];
          }
        });
        list(planes);
        var watched = planes.filter(function (p) { return p.watched; }).length;
        fw.status(planes.length + " aircraft, " + watched + " watched · updated " +
                  new Date().toISOString().slice(11, 19) + " UTC");
      }).catch(function (err) {
        fw.status("could not update: " + err.message, true);
      }).then(function () {
        window.setTimeout(refresh, settings.refresh_s * 1000);
      });
    }
    refresh();
  });
})();

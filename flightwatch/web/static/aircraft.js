/* The Aircraft page: one aircraft's stored positions over a period on the map, a
   time slider that walks them, its flights, and the CLI's exports for download. */
(function () {
  "use strict";
  var MAX_GAP_MS = 600 * 1000;  // as flightwatch map: no line across a long gap
  var TRACK = {color: "#2b83ba", weight: 3};

  function describe(point) {
    var parts = [fw.when(point.time) + " UTC", point.callsign,
                 point.on_ground ? "on the ground" : fw.feet(point.altitude_ft),
                 point.ground_speed_kt === null ? "" : point.ground_speed_kt + " kt"];
    return parts.filter(Boolean).join(" · ");
  }

  function lines(points) {
    var out = [], current = [], previous = null;
    points.forEach(function (p) {
      var time = Date.parse(p.time);
      if (previous && (p.icao !== previous.icao || time - previous.ms > MAX_GAP_MS)) {
        out.push(current);
        current = [];
      }
      current.push([p.lat, p.lon]);
      previous = {icao: p.icao, ms: time};
    });
    if (current.length) { out.push(current); }
    return out;
  }

  function downloads(query) {
    var box = document.getElementById("downloads");
    ["csv", "geojson", "kml"].forEach(function (format) {
      var q = new URLSearchParams(query);
      q.set("format", format);
      var a = fw.link("/api/history?" + q.toString(), "positions " + format.toUpperCase());
      a.className = "button";
      a.setAttribute("download", "");
      box.appendChild(a);
    });
    var report = fw.link("/api/report?" + query.toString(), "report");
    report.className = "button fw-report";
    report.title = "the evidence report: timeline, grades, sources, a map per flight";
    report.setAttribute("download", "");
    box.appendChild(report);
    var flights = new URLSearchParams(query);
    flights.set("format", "csv");
    var a = fw.link("/api/flights?" + flights.toString(), "flights CSV");
    a.className = "button";
    a.setAttribute("download", "");
    box.appendChild(a);
  }

  function fenceTimes(values) {
    return (values || []).map(function (pair) {
      var parts = pair.split("="), minutes = Math.round(Number(parts[1]) / 60);
      return parts[0] + " " + Math.floor(minutes / 60) + "h" + (minutes % 60) + "m";
    }).join(", ");
  }

  function showFlights(flights) {
    var body = document.querySelector("#flights tbody");
    flights.forEach(function (f) {
      var q = new URLSearchParams({icao: f.icao, since: f.first_seen, until: f.last_seen});
      fw.row(body, [f.callsign || "", f.departure_airport || "", fw.when(f.departure_time),
                    f.arrival_airport || "", fw.when(f.arrival_time), fw.when(f.first_seen),
                    fw.when(f.last_seen), fw.feet(f.max_altitude_ft),
                    fenceTimes(f.geofence_seconds), fw.link("/aircraft?" + q.toString(), "show")],
             "fw-flight");
    });
  }

  function slider(map, points, at) {
    var input = document.getElementById("slider");
    var moment = document.getElementById("moment");
    var marker = L.circleMarker([0, 0], {radius: 7, color: "#000", weight: 2,
                                         fillColor: "#ffff33", fillOpacity: 1});
    function show(i) {
      var p = points[i];
      marker.setLatLng([p.lat, p.lon]).addTo(map);
      moment.textContent = fw.shown(describe(p));
    }
    input.max = String(points.length - 1);
    input.disabled = false;
    var start = 0;
    if (at) {
      var target = Date.parse(at);
      points.forEach(function (p, i) { if (Date.parse(p.time) <= target) { start = i; } });
    }
    input.value = String(start);
    input.addEventListener("input", function () { show(Number(input.value)); });
    show(start);
  }

  fw.start(function (settings) {
    var map = fw.makeMap("map", settings);
    fw.drawPlaces(map);
    fw.drawFences(map, false);
    var form = document.getElementById("search");
    var page = fw.params();
    fw.fillForm(form, page);
    var query = new URLSearchParams();
    if (page.get("icao")) {
      query.set("icao", page.get("icao"));
      form.elements.aircraft.value = page.get("icao");
    }
    fw.aircraftQuery(page.get("aircraft"), query);
    if (!query.has("icao") && !query.has("registration")) {
      fw.status("Name an aircraft: ICAO address (157710) or registration (RA-96016).");
      return;
    }
    ["since", "until"].forEach(function (name) {
      if (page.get(name)) { query.set(name, page.get(name)); }
    });
    downloads(query);
    Promise.all([fw.getJSON("/api/history?" + query.toString()),
                 fw.getJSON("/api/flights?" + query.toString())]).then(function (answers) {
      var points = answers[0].slice().sort(function (a, b) {
        return Date.parse(a.time) - Date.parse(b.time);
      });
      var tracks = L.featureGroup().addTo(map);
      lines(answers[0]).forEach(function (line) {
        L.polyline(line, L.extend({className: "fw-track"}, TRACK)).addTo(tracks);
      });
      if (points.length) {
        map.fitBounds(tracks.getBounds(), {padding: [20, 20], maxZoom: 12});
        slider(map, points, page.get("at"));
      }
      showFlights(answers[1]);
      fw.status(points.length + " positions, " + answers[1].length + " flights");
    }).catch(function (err) {
      fw.status(err.message, true);
    });
  });
})();

/* The Alerts page: the newest alerts first, filtered by kind, fence and aircraft;
   each links to the aircraft's track around the moment it was raised. */
(function () {
  "use strict";
  var AROUND_MS = 2 * 3600 * 1000;

  function options(select, values) {
    values.forEach(function (value) { select.appendChild(fw.el("option", value)); });
  }

  function trackLink(alert) {
    var moment = Date.parse(alert.time);
    var query = new URLSearchParams({
      icao: alert.icao,
      since: new Date(moment - AROUND_MS).toISOString(),
      until: new Date(moment + AROUND_MS).toISOString(),
      at: alert.time
    });
    return fw.link("/aircraft?" + query.toString(), "track");
  }

  function pictureLink(alert) {
    var a = fw.link("/api/alerts/" + encodeURIComponent(alert.id) + "/map.png", "picture");
    a.className = "fw-picture";
    return a;
  }

  fw.start(function (settings) {
    var form = document.getElementById("filter");
    options(form.elements.kind, settings.kinds);
    options(form.elements.geofence, settings.geofences);
    var page = fw.params();
    fw.fillForm(form, page);
    var query = new URLSearchParams();
    ["kind", "geofence", "since"].forEach(function (name) {
      if (page.get(name)) { query.set(name, page.get(name)); }
    });
    fw.aircraftQuery(page.get("aircraft"), query);
    fw.getJSON("/api/alerts?" + query.toString()).then(function (alerts) {
      var body = document.querySelector("#alerts tbody");
      alerts.reverse().forEach(function (alert) {
        var who = [alert.registration, alert.icao].filter(Boolean).join(" · ");
        fw.row(body, [fw.when(alert.time), alert.kind, who, alert.callsign || "",
                      alert.geofence || "", alert.airport || "", fw.feet(alert.altitude_ft),
                      alert.matched_by || "", (alert.sources || []).join(", "),
                      alert.evidence || "", alert.retrospective ? "imported" : "live",
                      trackLink(alert), pictureLink(alert)], "fw-alert");
      });
      document.getElementById("none").hidden = alerts.length > 0;
      fw.status(alerts.length + " alerts");
    }).catch(function (err) {
      fw.status(err.message, true);
    });
  });
})();

// The hotspots' map (Leaflet, vendored): one circle per stop of the table below it, with
// its number of incidents, red when an open problem covers the stop. The table is the
// data (and what a screen reader reads); markers are built with textContent only.
"use strict";
(function () {
  var box = document.getElementById("carte-points-chauds");
  if (!box || !window.L) return;
  var map = window.L.map(box, { zoomControl: true, attributionControl: true }).setView([46.6, 2.4], 5);
  if (box.dataset.tuiles) {
    window.L.tileLayer(box.dataset.tuiles, { maxZoom: 19, attribution: box.dataset.attribution }).addTo(map);
  }
  var points = [];
  document.querySelectorAll("#table-arrets tr[data-lat]").forEach(function (row) {
    var count = Number(row.dataset.incidents);
    var open = row.dataset.ouvert === "oui";
    var label = document.createElement("span");
    label.textContent = String(count);
    var size = Math.min(44, 20 + 4 * Math.sqrt(count));
    var icon = window.L.divIcon({
      className: "marqueur-arret" + (open ? " ouvert" : ""),
      html: label,
      iconSize: [size, size]
    });
    var point = [Number(row.dataset.lat), Number(row.dataset.lon)];
    var marker = window.L.marker(point, {
      icon: icon,
      title: row.dataset.nom + " : " + count + " incidents" + (open ? " (problème ouvert)" : ""),
      keyboard: true
    }).addTo(map);
    var element = marker.getElement();
    if (element) element.dataset.arret = row.dataset.arret;
    points.push(point);
  });
  if (points.length === 1) map.setView(points[0], 15);
  else if (points.length > 1) map.fitBounds(points, { padding: [30, 30] });
})();

// The console's map (Leaflet, vendored from npm): one marker per open incident of the
// queue, or per group (its lead, with the group's size), coloured by priority and
// labelled with it; a click opens the incident. console.js calls
// window.consoleMap.update(row, shown) with each live row, so the map follows the list.
// Markers are built with textContent only; without tiles (MAP_TILES_URL empty, or
// offline) the markers still show.
"use strict";
(function () {
  var box = document.getElementById("carte");
  if (!box || !window.L) return;
  var FRANCE = [46.6, 2.4];
  var map = window.L.map(box, { zoomControl: true, attributionControl: true }).setView(FRANCE, 5);
  if (box.dataset.tuiles) {
    window.L.tileLayer(box.dataset.tuiles, {
      maxZoom: 19,
      attribution: box.dataset.attribution
    }).addTo(map);
  }
  var markers = {};

  function icon(data) {
    var element = document.createElement("span");
    element.className = "marqueur-texte";
    element.textContent = data.priority + (data.group_size > 1 ? " ×" + data.group_size : "");
    return window.L.divIcon({
      className: "marqueur-incident " + data.priority,
      html: element,
      iconSize: [data.group_size > 1 ? 44 : 30, 22]
    });
  }

  function remove(id) {
    if (markers[id]) {
      markers[id].remove();
      delete markers[id];
    }
  }

  function place(data) {
    remove(data.id);
    if (data.lat === null || data.lat === undefined || data.lat === "") return;
    var marker = window.L.marker([Number(data.lat), Number(data.lon)], {
      icon: icon(data),
      title: data.priority + " · " + data.nature_label,
      keyboard: true,
      zIndexOffset: data.priority === "P1" ? 1000 : 0
    });
    marker.on("click", function () { window.location.assign(data.url); });
    marker.addTo(map);
    var element = marker.getElement();
    if (element) {
      element.dataset.id = data.id;
      element.dataset.priority = data.priority;
    }
    markers[data.id] = marker;
  }

  function fit() {
    var points = Object.keys(markers).map(function (id) { return markers[id].getLatLng(); });
    if (points.length === 1) map.setView(points[0], 15);
    else if (points.length > 1) map.fitBounds(window.L.latLngBounds(points), { padding: [30, 30], maxZoom: 16 });
  }

  document.querySelectorAll("#file tr.incident-ligne").forEach(function (tr) {
    place({
      id: tr.dataset.id,
      priority: tr.dataset.priority,
      lat: tr.dataset.lat,
      lon: tr.dataset.lon,
      url: tr.dataset.url,
      nature_label: tr.dataset.natureLabel,
      group_size: Number(tr.dataset.groupSize || 1)
    });
  });
  fit();

  window.consoleMap = {
    update: function (data, shown) {
      var had = Boolean(markers[data.id]);
      if (shown) place(data); else remove(data.id);
      if (!had && shown) fit();
    },
    count: function () { return Object.keys(markers).length; }
  };
}());

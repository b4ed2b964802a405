// The operator's follow-up, live: the list's statuses (and new sheets) and the
// detail page's status part follow the server-sent events without a reload.
// EventSource reconnects by itself and sends Last-Event-ID: nothing is missed.
"use strict";
(function () {
  var STATES = {
    connecte: "Suivi en direct : connecté.",
    reconnexion: "Suivi en direct : connexion perdue, reconnexion en cours…"
  };

  function showState(state) {
    var element = document.getElementById("etat-connexion");
    if (!element) { return; }
    element.textContent = STATES[state] || state;
    element.setAttribute("data-etat", state);
  }

  function announce(text) {
    var element = document.getElementById("annonce");
    if (element) { element.textContent = text; }
  }

  function cell(text) {
    var td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function newRow(data) {
    var row = document.createElement("tr");
    row.id = "incident-" + data.id;
    row.setAttribute("data-id", data.id);
    row.setAttribute("data-statut", data.status);
    var reference = document.createElement("td");
    var link = document.createElement("a");
    link.href = data.url;
    link.textContent = data.reference;
    reference.appendChild(link);
    row.appendChild(reference);
    var received = document.createElement("td");
    var time = document.createElement("time");
    time.setAttribute("datetime", data.received_at);
    time.textContent = data.received_label;
    received.appendChild(time);
    row.appendChild(received);
    var priority = document.createElement("td");
    var badge = document.createElement("span");
    priority.appendChild(badge);
    row.appendChild(priority);
    row.appendChild(cell(data.nature));
    var status = cell("");
    status.className = "statut";
    row.appendChild(status);
    row.appendChild(cell(data.service));
    return row;
  }

  function updateRow(row, data) {
    row.setAttribute("data-statut", data.status);
    row.querySelector(".statut").textContent = data.status_label;
    var badge = row.querySelector(".priorite") || row.querySelector("td:nth-child(3) span");
    badge.className = "priorite " + data.priority;
    badge.textContent = data.priority;
  }

  function startList(table) {
    var adds = table.getAttribute("data-ajout") === "oui";
    var body = table.tBodies[0];
    window.live(table.getAttribute("data-flux"), {
      incident: function (data) {
        var row = document.getElementById("incident-" + data.id);
        if (!row) {
          if (!adds || data.type !== "incident.submitted") { return; }
          row = newRow(data);
          body.insertBefore(row, body.firstChild);
          var none = document.getElementById("aucune-fiche");
          if (none) { none.hidden = true; }
          updateRow(row, data);
          announce("Nouvelle fiche " + data.reference + " : " + data.status_label + ".");
          return;
        }
        var changed = row.getAttribute("data-statut") !== data.status;
        updateRow(row, data);
        if (changed) { announce("Fiche " + data.reference + " : " + data.status_label + "."); }
      }
    }, showState);
  }

  function refreshStatus(section) {
    var request = new XMLHttpRequest();
    request.open("GET", section.getAttribute("data-partie"));
    request.onload = function () {
      if (request.status !== 200) { return; }
      var parsed = new DOMParser().parseFromString(request.responseText, "text/html");
      var fresh = parsed.getElementById("suivi");
      var current = document.getElementById("suivi");
      if (fresh && current) {
        current.parentNode.replaceChild(document.importNode(fresh, true), current);
      }
    };
    request.send();
  }

  function startDetail(summary) {
    var id = summary.getAttribute("data-id");
    // The version of the sheet this page shows: the status block is refreshed from
    // the server and carries the newest version, so compare with this one.
    var shown = document.getElementById("suivi");
    var shownVersion = shown ? shown.getAttribute("data-version") : null;
    window.live(summary.getAttribute("data-flux"), {
      incident: function (data) {
        if (data.id !== id) { return; }
        if (data.type === "incident.message_posted" && window.conversationRefresh) {
          window.conversationRefresh();
          return;
        }
        if (data.type === "incident.cctv_requisition_changed") {
          // Its forms may be half filled: offer the new state rather than reload.
          document.getElementById("videoprotection-changee").hidden = false;
          document.getElementById("afficher-requisitions").onclick = function () {
            window.location.replace(window.location.pathname + "#videoprotection");
            window.location.reload();
          };
          return;
        }
        var section = document.getElementById("suivi");
        var badge = document.getElementById("priorite-courante");
        if (badge) {
          badge.className = "priorite " + data.priority;
          badge.textContent = data.priority;
        }
        if (shownVersion !== null && shownVersion !== String(data.version)) {
          document.getElementById("nouvelle-version").hidden = false;
        }
        if (section && section.getAttribute("data-statut") !== data.status) {
          section.setAttribute("data-statut", data.status);
          document.getElementById("statut-courant").textContent = data.status_label;
          refreshStatus(section);
        }
      }
    }, showState);
  }

  var table = document.getElementById("fiches");
  if (table && table.getAttribute("data-flux")) { startList(table); }
  var summary = document.getElementById("resume-fiche");
  if (summary && summary.getAttribute("data-flux")) { startDetail(summary); }
})();

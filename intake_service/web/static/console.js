// The command-centre console: keeps the queue and the open sheet current from
// /console/flux (server-sent events, see live.js). No framework, no build step:
// it must run on an old office PC. Rows are built with textContent only.
"use strict";
(function () {
  var PRIORITIES = ["P1", "P2", "P3", "P4"];
  var UNACKNOWLEDGED = ["received", "queued"];
  var stateBox = document.getElementById("etat-connexion");

  function setState(state) {
    if (!stateBox) return;
    stateBox.dataset.etat = state;
    stateBox.textContent = state === "connecte" ? "connecté" : "reconnexion…";
  }

  // --- time --------------------------------------------------------------------------------
  function ageLabel(since, now) {
    var minutes = Math.max(0, Math.floor((now - since) / 60000));
    if (minutes < 1) return "à l'instant";
    if (minutes < 60) return "il y a " + minutes + " min";
    var hours = Math.floor(minutes / 60);
    if (hours < 24) return "il y a " + hours + " h " + String(minutes % 60).padStart(2, "0");
    return "il y a " + Math.floor(hours / 24) + " j";
  }

  function countdownLabel(deadline, now) {
    var minutes = Math.floor((deadline - now) / 60000);
    if (minutes < 0) return "délai dépassé : les images sont sans doute effacées";
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var rest = minutes % 60;
    if (days) return "effacement dans " + days + " j " + hours + " h";
    if (hours) return "effacement dans " + hours + " h " + String(rest).padStart(2, "0") + " min";
    return "effacement dans " + rest + " min";
  }

  // --- sound: a short double beep for a new P1, once the operator has allowed it ------------
  var audio = null;
  var soundOn = false;
  var soundButton = document.getElementById("activer-son");

  function beep() {
    if (!audio || !soundOn) return false;
    var start = audio.currentTime + 0.01;
    [0, 0.3].forEach(function (offset) {
      var oscillator = audio.createOscillator();
      var gain = audio.createGain();
      oscillator.type = "square";
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.25, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.2);
      oscillator.connect(gain);
      gain.connect(audio.destination);
      oscillator.start(start + offset);
      oscillator.stop(start + offset + 0.22);
    });
    return true;
  }

  if (soundButton) {
    soundButton.addEventListener("click", function () {
      if (soundOn) {
        soundOn = false;
        soundButton.setAttribute("aria-pressed", "false");
        soundButton.textContent = "Activer le son";
        return;
      }
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) {
        soundButton.textContent = "Son indisponible sur ce navigateur";
        soundButton.disabled = true;
        return;
      }
      // Created (or resumed) inside the click: browsers only allow sound after a gesture.
      audio = audio || new Context();
      audio.resume();
      soundOn = true;
      soundButton.setAttribute("aria-pressed", "true");
      soundButton.textContent = "Son activé (cliquer pour couper)";
      beep();
    });
  }

  // --- the queue ---------------------------------------------------------------------------
  var table = document.getElementById("file");

  function words(value) { return value ? value.split(" ") : []; }

  function matchesFilters(data) {
    var priorities = words(table.dataset.priorites);
    var statuses = words(table.dataset.statuts);
    if (priorities.length && priorities.indexOf(data.priority) < 0) return false;
    if (statuses.length && statuses.indexOf(data.status) < 0) return false;
    if (table.dataset.ligne && data.route_id !== table.dataset.ligne) return false;
    if (table.dataset.nature && data.natures.indexOf(table.dataset.nature) < 0) return false;
    return true;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function buildRow(data) {
    var tr = element("tr", "incident-ligne" + (data.escalated ? " escalade" : ""));
    tr.id = "incident-" + data.id;
    tr.dataset.id = data.id;
    tr.dataset.priority = data.priority;
    tr.dataset.rank = data.priority_rank;
    tr.dataset.received = data.received_at;
    tr.dataset.route = data.route_id;
    tr.dataset.natures = data.natures.join(" ");
    tr.dataset.status = data.status;
    tr.dataset.url = data.url;
    tr.dataset.natureLabel = data.nature_label;
    tr.dataset.groupSize = data.group_size;
    if (data.lat !== null && data.lat !== undefined) {
      tr.dataset.lat = data.lat;
      tr.dataset.lon = data.lon;
    }

    var priority = element("td", "col-priorite");
    priority.appendChild(element("span", "priorite " + data.priority, data.priority));
    if (data.priority === "P1") {
      priority.appendChild(document.createTextNode(" "));
      priority.appendChild(element("span", "rappel", "Appelez le 17 / la ligne directe"));
    }
    if (data.escalated) {
      priority.appendChild(document.createTextNode(" "));
      priority.appendChild(element("strong", "badge-escalade", "Escaladé"));
    }
    var age = element("td", "col-age");
    age.appendChild(element("span", "age", ageLabel(Date.parse(data.received_at), Date.now())));
    age.appendChild(document.createElement("br"));
    age.appendChild(element("span", "discret", "reçu à " + data.received_time));
    var nature = element("td", "col-nature");
    var link = element("a", "", data.nature_label);
    link.href = data.url;
    nature.appendChild(link);
    var place = element("td", "col-lieu", data.place);
    if (data.place_kind) {
      place.appendChild(document.createElement("br"));
      place.appendChild(element("span", "discret", data.place_kind));
    }
    tr.appendChild(priority);
    tr.appendChild(age);
    tr.appendChild(nature);
    tr.appendChild(place);
    tr.appendChild(element("td", "col-ligne", data.line || "—"));
    tr.appendChild(element("td", "col-operateur", data.operator));
    var status = element("td", "col-statut");
    status.appendChild(element("span", "statut-libelle", data.status_label));
    if (data.group_size > 1) {
      status.appendChild(document.createElement("br"));
      status.appendChild(element("span", "groupe", "groupe de " + data.group_size + " signalements"));
    }
    if (data.duplicates_proposed) {
      status.appendChild(document.createElement("br"));
      status.appendChild(element("span", "doublon", "doublon possible (" + data.duplicates_proposed + ")"));
    }
    if (data.holder) {
      status.appendChild(document.createElement("br"));
      status.appendChild(element("span", "pris-par", "pris par " + data.holder + " à " + data.held_time));
    }
    if (data.routing_assumed) {
      status.appendChild(document.createElement("br"));
      status.appendChild(element("span", "routage-suppose", "routage supposé"));
    }
    if (data.requests_open) {
      status.appendChild(document.createElement("br"));
      status.appendChild(element("span", "demandes" + (data.requests_overdue ? " en-retard" : ""),
                                 data.requests_label));
    }
    tr.appendChild(status);
    return tr;
  }

  // Priority, then rank within it (smaller first), then the most recent.
  function comesBefore(a, b) {
    var pa = PRIORITIES.indexOf(a.dataset.priority);
    var pb = PRIORITIES.indexOf(b.dataset.priority);
    if (pa !== pb) return pa < pb;
    var ra = Number(a.dataset.rank);
    var rb = Number(b.dataset.rank);
    if (ra !== rb) return ra < rb;
    return Date.parse(a.dataset.received) > Date.parse(b.dataset.received);
  }

  function insertSorted(tbody, tr) {
    var rows = tbody.querySelectorAll("tr.incident-ligne");
    for (var i = 0; i < rows.length; i += 1) {
      if (comesBefore(tr, rows[i])) {
        tbody.insertBefore(tr, rows[i]);
        return;
      }
    }
    tbody.insertBefore(tr, document.getElementById("file-vide"));
  }

  function showEmpty(tbody) {
    document.getElementById("file-vide").hidden = tbody.querySelector("tr.incident-ligne") !== null;
  }

  function announce(text) {
    var box = document.getElementById("annonce");
    if (box) box.textContent = text;
  }

  function onQueueEvent(data) {
    var tbody = table.tBodies[0];
    var existing = document.getElementById("incident-" + data.id);
    var hadFocus = existing !== null && existing.contains(document.activeElement);
    if (existing) existing.remove();
    if (window.consoleMap) window.consoleMap.update(data, data.open && matchesFilters(data));
    if (data.open && matchesFilters(data)) {
      var tr = buildRow(data);
      insertSorted(tbody, tr);
      if (hadFocus) tr.querySelector("a").focus();
      if (!existing) {
        tr.classList.add("nouveau");
        if (data.priority === "P1" && UNACKNOWLEDGED.indexOf(data.status) >= 0) {
          if (beep()) table.dataset.alertesSonores = String(Number(table.dataset.alertesSonores || 0) + 1);
          announce("Nouvel incident P1 : " + data.nature_label + ", " + data.place +
                   ". Appelez le 17 / la ligne directe.");
        }
      }
    }
    showEmpty(tbody);
  }

  if (table) {
    window.live(table.dataset.flux, { incident: onQueueEvent }, setState);
    window.setInterval(function () {
      var now = Date.now();
      table.querySelectorAll("tr.incident-ligne").forEach(function (tr) {
        var age = tr.querySelector(".age");
        if (age) age.textContent = ageLabel(Date.parse(tr.dataset.received), now);
      });
    }, 30000);
  }

  // --- one sheet ---------------------------------------------------------------------------
  var sheet = document.getElementById("fiche");

  // Something typed and not sent: a reload would lose it.
  function typing() {
    var fields = sheet.querySelectorAll("form input:not([type=hidden]), form textarea, form select");
    for (var i = 0; i < fields.length; i += 1) {
      var field = fields[i];
      if (field.tagName === "SELECT") {
        // With no option marked selected, the browser shows the first: that is no choice.
        var initial = 0;
        for (var j = 0; j < field.options.length; j += 1) {
          if (field.options[j].defaultSelected) initial = j;
        }
        if (field.selectedIndex !== initial) return true;
      } else if (field.value !== field.defaultValue) {
        return true;
      }
    }
    var active = document.activeElement;
    return active !== null && (active.tagName === "TEXTAREA" || active.tagName === "INPUT") &&
      active.type !== "hidden" && active.type !== "submit";
  }

  function onSheetEvent(data) {
    if (data.id !== sheet.dataset.incident) return;
    if (data.type === "incident.message_posted" && window.conversationRefresh) {
      // A message changes the conversation only: read it again, keep the page.
      window.conversationRefresh();
      return;
    }
    var kind = data.type === "incident.amended" ? "exploitant" : "autre";
    var banner = document.getElementById("maj-autre");
    var target = sheet.dataset.url + "?maj=" + kind;
    banner.querySelector("strong").textContent = kind === "exploitant"
      ? "Fiche complétée par l'exploitant" : "Mis à jour par un autre opérateur";
    banner.hidden = false;
    if (typing()) {
      // Do not throw away what the operator is typing: offer the reload instead.
      var button = document.getElementById("recharger");
      button.hidden = false;
      button.onclick = function () { window.location.replace(target); };
    } else {
      window.location.replace(target);
    }
  }

  if (sheet) {
    window.live(sheet.dataset.flux, { incident: onSheetEvent }, setState);
    var countdown = document.getElementById("compte-a-rebours");
    if (countdown) {
      var deadline = Date.parse(countdown.dataset.echeance);
      var tick = function () { countdown.textContent = countdownLabel(deadline, Date.now()); };
      tick();
      window.setInterval(tick, 60000);
    }
  }
}());

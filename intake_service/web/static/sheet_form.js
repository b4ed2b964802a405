/* The sheet form, progressively enhanced; the server never depends on this script.
   - parts that do not apply are hidden AND disabled, so they are not sent;
   - stops are searched as you type (datalist filled from /fiche/arrets?q=);
   - "Utiliser ma position" fills the coordinates from the device;
   - victim blocks are added and removed, and renumbered so names stay contiguous;
   - the receipt's "Imprimer" button prints the page. */
(function () {
  "use strict";

  /* --- Conditional parts ---------------------------------------------------------------- */

  function currentValue(form, scope, name) {
    // ".kind" is relative to the enclosing victim block; other names are global.
    var controls;
    if (name.charAt(0) === ".") {
      controls = Array.prototype.filter.call(scope.querySelectorAll("[name]"), function (el) {
        return el.name.slice(-name.length) === name;
      });
    } else {
      controls = form.querySelectorAll('[name="' + name + '"]');
    }
    for (var i = 0; i < controls.length; i++) {
      var el = controls[i];
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) return el.value;
      } else {
        return el.value;
      }
    }
    return "";
  }

  function applyConditions(form) {
    // Document order: a part's own condition is applied after its parent's.
    form.querySelectorAll("[data-si]").forEach(function (part) {
      var scope = part.closest("[data-victime]") || form;
      var wanted = part.getAttribute("data-valeurs").split(" ");
      var parentHidden = part.parentElement && part.parentElement.closest("[hidden]");
      var show = !parentHidden && wanted.indexOf(currentValue(form, scope, part.getAttribute("data-si"))) !== -1;
      part.hidden = !show;
      part.querySelectorAll("input, select, textarea").forEach(function (control) {
        control.disabled = !show;
      });
    });
  }

  /* --- Stop search ------------------------------------------------------------------------ */

  function setUpStopSearch(form) {
    var url = form.getAttribute("data-recherche-arrets");
    var list = document.getElementById("arrets-trouves");
    if (!url || !list || !window.fetch) return;
    var known = {};
    var timer = null;
    var lastQuery = null;

    function showName(input) {
      var target = document.getElementById(input.getAttribute("data-nom"));
      if (!target) return;
      var name = known[input.value.trim()];
      if (name) target.textContent = "Arrêt choisi : " + name;
      else if (!input.value.trim()) target.textContent = "";
    }

    function search(input) {
      var query = input.value.trim();
      if (query.length < 2 || known[query] || query === lastQuery) return;
      lastQuery = query;
      fetch(url + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (stops) {
          if (input.value.trim() !== query) return; // the user typed on meanwhile
          list.textContent = "";
          stops.forEach(function (stop) {
            known[stop.stop_id] = stop.name;
            var option = document.createElement("option");
            option.value = stop.stop_id;
            option.label = stop.name + " — " + stop.stop_id;
            option.textContent = stop.name;
            list.appendChild(option);
          });
        })
        .catch(function () { /* search is a help: the field still takes a typed id */ });
    }

    form.querySelectorAll(".recherche-arret").forEach(function (input) {
      input.addEventListener("input", function () {
        showName(input);
        window.clearTimeout(timer);
        timer = window.setTimeout(function () { search(input); }, 200);
      });
      input.addEventListener("change", function () { showName(input); });
    });
  }

  /* --- Line → mode -------------------------------------------------------------------------- */

  function setUpLine(form) {
    var line = form.querySelector('[name="location.route_id"]');
    var mode = form.querySelector('[name="location.mode"]');
    if (!line || !mode) return;
    line.addEventListener("change", function () {
      var option = line.options[line.selectedIndex];
      var value = option && option.getAttribute("data-mode");
      if (value !== null && value !== undefined && mode.querySelector('option[value="' + value + '"]')) {
        mode.value = value;
        applyConditions(form);
      }
    });
  }

  /* --- Position ----------------------------------------------------------------------------- */

  function setUpPosition(form) {
    var button = document.getElementById("utiliser-position");
    var status = document.getElementById("position-etat");
    if (!button || !navigator.geolocation) return;
    button.hidden = false;
    function set(name, value) {
      var el = form.querySelector('[name="' + name + '"]');
      if (el) el.value = value;
    }
    button.addEventListener("click", function () {
      status.textContent = "Recherche de la position…";
      navigator.geolocation.getCurrentPosition(
        function (position) {
          set("location.coordinates.lat", position.coords.latitude.toFixed(6));
          set("location.coordinates.lon", position.coords.longitude.toFixed(6));
          set("location.coordinates.accuracy_m", String(Math.round(position.coords.accuracy)));
          set("location.coordinates.source", "gps");
          status.textContent = "Position renseignée (précision " + Math.round(position.coords.accuracy) + " m).";
        },
        function (error) {
          status.textContent = error.code === 1 ?
            "Position refusée : autorisez la localisation, ou saisissez les coordonnées." :
            "Position indisponible : saisissez les coordonnées.";
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  /* --- Victims ------------------------------------------------------------------------------ */

  var NAME = /^victims\.(\d+|N)\./;
  var ID = /champ-victims-(\d+|N)(?=-|$)/g;

  function renumber(container) {
    container.querySelectorAll("[data-victime]").forEach(function (block, index) {
      var number = block.querySelector(".numero");
      if (number) number.textContent = String(index + 1);
      [block].concat(Array.prototype.slice.call(block.querySelectorAll("*"))).forEach(function (el) {
        if (el.name && NAME.test(el.name)) el.name = el.name.replace(NAME, "victims." + index + ".");
        ["id", "for", "aria-describedby"].forEach(function (attribute) {
          var value = el.getAttribute(attribute);
          if (value && value.indexOf("champ-victims-") !== -1) {
            el.setAttribute(attribute, value.replace(ID, "champ-victims-" + index));
          }
        });
      });
    });
  }

  function setUpVictims(form) {
    var container = document.getElementById("victimes");
    var add = document.getElementById("ajouter-victime");
    var model = document.getElementById("modele-victime");
    if (!container || !add || !model || !model.content) return;
    var MAX = 20;

    function refresh() {
      var blocks = container.querySelectorAll("[data-victime]");
      add.hidden = blocks.length >= MAX;
      blocks.forEach(function (block) {
        var remove = block.querySelector(".retirer-victime");
        if (remove) remove.hidden = false;
      });
      renumber(container);
      applyConditions(form);
    }

    add.addEventListener("click", function () {
      var block = model.content.firstElementChild.cloneNode(true);
      container.appendChild(block);
      refresh();
      var first = block.querySelector("select, input");
      if (first) first.focus();
    });
    container.addEventListener("click", function (event) {
      var button = event.target.closest(".retirer-victime");
      if (!button) return;
      var block = button.closest("[data-victime]");
      block.parentNode.removeChild(block);
      refresh();
      add.focus();
    });
    refresh();
  }

  /* --- Start -------------------------------------------------------------------------------- */

  function start() {
    var print = document.getElementById("imprimer");
    if (print) {
      print.hidden = false;
      print.addEventListener("click", function () { window.print(); });
    }
    var form = document.querySelector("form.fiche");
    if (!form) return;
    form.addEventListener("change", function () { applyConditions(form); });
    setUpVictims(form);
    setUpStopSearch(form);
    setUpLine(form);
    setUpPosition(form);
    applyConditions(form);
    var summary = document.getElementById("resume-erreurs");
    if (summary) summary.focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

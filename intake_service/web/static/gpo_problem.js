/* The problem form (web/gpo.py): stops searched as you type among the GPO's networks.
   A stop chosen in the list is added above the search field as a ticked box (untick to
   remove it); without this script the field takes "network|GTFS id" as typed. */
(function () {
  "use strict";

  var form = document.getElementById("formulaire-probleme");
  if (!form || !window.fetch) return;
  var url = form.getAttribute("data-recherche-arrets");
  var input = document.getElementById("ajout-arret");
  var list = document.getElementById("arrets-trouves");
  var chosen = document.getElementById("arrets-choisis");
  if (!url || !input || !list || !chosen) return;
  var known = {};
  var timer = null;
  var lastQuery = null;

  function alreadyChosen(value) {
    return Array.prototype.some.call(chosen.querySelectorAll("input[name=stops]"), function (box) {
      return box.value === value;
    });
  }

  function choose(value) {
    var stop = known[value];
    if (!stop) return false;
    if (!alreadyChosen(value)) {
      var item = document.createElement("li");
      var label = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.name = "stops";
      box.value = value;
      box.checked = true;
      var hint = document.createElement("span");
      hint.className = "discret";
      hint.textContent = stop.stop_id;
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + stop.name + " "));
      label.appendChild(hint);
      item.appendChild(label);
      chosen.appendChild(item);
    }
    input.value = "";
    lastQuery = null;
    return true;
  }

  function search() {
    var query = input.value.trim();
    if (query.length < 2 || known[query] || query === lastQuery) return;
    lastQuery = query;
    fetch(url + "?q=" + encodeURIComponent(query), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (stops) {
        if (input.value.trim() !== query) return; // typed on meanwhile
        list.textContent = "";
        stops.forEach(function (stop) {
          known[stop.value] = stop;
          var option = document.createElement("option");
          option.value = stop.value;
          option.label = stop.name + " — " + stop.stop_id;
          option.textContent = stop.name;
          list.appendChild(option);
        });
      })
      .catch(function () { /* a help only: the field still takes a typed id */ });
  }

  input.addEventListener("input", function () {
    if (choose(input.value.trim())) return;
    window.clearTimeout(timer);
    timer = window.setTimeout(search, 200);
  });
  input.addEventListener("change", function () { choose(input.value.trim()); });
  input.addEventListener("keydown", function (event) {
    // Enter picks the stop instead of sending the whole form.
    if (event.key === "Enter" && known[input.value.trim()]) {
      event.preventDefault();
      choose(input.value.trim());
    }
  });
})();

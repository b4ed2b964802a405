// The direct line inside an incident (console and follow-up pages): the page's live
// stream calls window.conversationRefresh() when a message is posted on the incident;
// the list (#fil) is read again from the server, which alone decides what this side
// may see. A request's due time passing reads it again too (it then shows as late).
// An answer being typed is never thrown away: a button offers the refresh instead.
"use strict";
(function () {
  var section = document.getElementById("conversation");
  if (!section) return;
  var timer = null;

  function typingIn(container) {
    var fields = container.querySelectorAll("textarea, input:not([type=hidden]), select");
    for (var i = 0; i < fields.length; i += 1) {
      var field = fields[i];
      if (field.tagName === "SELECT") {
        if (field.selectedIndex > 0) return true;
      } else if (field.value !== field.defaultValue) {
        return true;
      }
    }
    return false;
  }

  function announce(text) {
    var box = document.getElementById("annonce-conversation");
    if (box) box.textContent = text;
  }

  function offerRefresh() {
    var button = document.getElementById("afficher-messages");
    if (!button) {
      button = document.createElement("button");
      button.type = "button";
      button.id = "afficher-messages";
      button.textContent = "Nouveaux messages : afficher";
      button.addEventListener("click", function () { button.remove(); load(); });
      section.insertBefore(button, document.getElementById("fil"));
    }
  }

  function scheduleDue() {
    if (timer) window.clearTimeout(timer);
    var waiting = section.querySelectorAll(".demande-attente[data-echeance]");
    var next = null;
    waiting.forEach(function (node) {
      var due = Date.parse(node.dataset.echeance);
      if (next === null || due < next) next = due;
    });
    if (next !== null) {
      timer = window.setTimeout(function () { window.conversationRefresh(); },
                                Math.max(1000, next - Date.now() + 1000));
    }
  }

  function load() {
    var current = document.getElementById("fil");
    var request = new XMLHttpRequest();
    request.open("GET", current.dataset.partie);
    request.onload = function () {
      if (request.status !== 200) return;
      var parsed = new DOMParser().parseFromString(request.responseText, "text/html");
      var fresh = parsed.getElementById("fil");
      var shown = document.getElementById("fil");
      if (!fresh || !shown) return;
      var before = shown.querySelectorAll("li.message").length;
      shown.parentNode.replaceChild(document.importNode(fresh, true), shown);
      var after = document.querySelectorAll("#fil li.message").length;
      if (after > before) announce("Nouveau message sur la ligne directe.");
      scheduleDue();
    };
    request.send();
  }

  window.conversationRefresh = function () {
    if (typingIn(document.getElementById("fil"))) {
      offerRefresh();
      return;
    }
    load();
  };

  scheduleDue();
}());

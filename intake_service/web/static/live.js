// Server-sent events with catch-up: EventSource reconnects by itself and sends
// Last-Event-ID, so the server replays what was missed during a network blip.
"use strict";
window.live = function (url, handlers, onState) {
  var source = new EventSource(url);
  source.onopen = function () { if (onState) onState("connecte"); };
  source.onerror = function () { if (onState) onState("reconnexion"); };
  Object.keys(handlers).forEach(function (type) {
    source.addEventListener(type, function (event) { handlers[type](JSON.parse(event.data), event); });
  });
  return source;
};

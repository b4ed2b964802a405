// CCTV requisitions (_cctv.html): the erase countdown of each open requisition, kept
// current between page loads. The words are those of direct_line/rules/cctv.countdown.
(function () {
  "use strict";
  function label(deadline, now) {
    var minutes = Math.floor((deadline - now) / 60000);
    if (minutes < 0) return "échéance d'effacement dépassée";
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var rest = minutes % 60;
    if (days) return "effacement dans " + days + " j " + hours + " h";
    if (hours) return "effacement dans " + hours + " h " + String(rest).padStart(2, "0");
    return "effacement dans " + rest + " min";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".compte-requisition[data-echeance]").forEach(function (el) {
      var deadline = Date.parse(el.dataset.echeance);
      if (!isNaN(deadline)) el.textContent = label(deadline, now);
    });
  }
  tick();
  window.setInterval(tick, 30000);
}());

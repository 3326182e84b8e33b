// The release form's running payee total: the payees' amounts added up as they are typed, against the amount
// applied for and the cap. Counted in integer fen from the typed text (BigInt, never floating point); only a
// help while typing: the server checks the sum and the cap again on submit. The words are the page's.
(function () {
  "use strict";
  var box = document.getElementById("payee-total");
  if (!box) return;
  var form = box.closest("form");
  var AMOUNT = /^(\d{1,13})(?:\.(\d{1,2}))?$/;

  function fen(text) {
    var found = AMOUNT.exec(String(text || "").replace(/[,\s]/g, ""));
    return found ? BigInt(found[1]) * 100n + BigInt((found[2] || "").padEnd(2, "0")) : null;
  }
  function yuan(value) {
    var digits = value.toString().padStart(3, "0");
    return digits.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + digits.slice(-2);
  }
  function show(name, on) {
    box.querySelectorAll('[data-when="' + name + '"]').forEach(function (el) { el.hidden = !on; });
  }
  function update() {
    var total = 0n, unreadable = false;
    form.querySelectorAll('input[name="payee_amount"]').forEach(function (input) {
      if (!input.value.trim()) return;
      var value = fen(input.value);
      if (value === null) unreadable = true; else total += value;
    });
    var applied = fen(form.elements.amount ? form.elements.amount.value : "");
    var cap = fen(box.dataset.cap);
    box.querySelector("[data-total]").textContent = yuan(total);
    box.querySelector("[data-applied]").textContent = applied === null ? "—" : yuan(applied);
    show("unreadable", unreadable);
    show("matches", !unreadable && applied !== null && applied === total);
    show("differs", !unreadable && applied !== null && applied !== total);
    show("above", cap !== null && total > cap);
    box.dataset.state = unreadable ? "unreadable" : applied !== null && applied === total ? "matches" : "differs";
    box.hidden = false;
  }
  form.addEventListener("input", update);
  document.body.addEventListener("htmx:afterSettle", update); // a payee row was added
  update();
})();

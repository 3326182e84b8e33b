// The alert list: the "select all on this page" box ticks or clears every alert box of the bulk form.
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-select-all]");
  if (!all) return;
  for (const box of document.querySelectorAll('input[name="alert_id"][form="bulk"]')) {
    box.checked = all.checked;
  }
});

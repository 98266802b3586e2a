// Operator terminal: an on-screen number pad for the quantity fields, and setup/run minutes that
// keep counting between actions. Event delegation, because htmx swaps the panel in and out.
(function () {
  let target = null;
  document.addEventListener("focusin", (event) => {
    if (event.target.matches("[data-pad]")) target = event.target;
  });
  document.addEventListener("click", (event) => {
    const key = event.target.closest("[data-key]");
    if (!key) return;
    const form = key.closest("form");
    const field = target && form.contains(target) ? target : form.querySelector("[data-pad]");
    const value = field.value === "0" ? "" : field.value;
    const pressed = key.dataset.key;
    field.value = pressed === "clear" ? "0" : pressed === "back" ? value.slice(0, -1) || "0" : value + pressed;
  });
  setInterval(() => {
    document.querySelectorAll("[data-ticking]").forEach((el) => {
      const minutes = parseFloat(el.dataset.minutes) + 0.5;
      el.dataset.minutes = minutes;
      el.textContent = Math.round(minutes);
    });
  }, 30000);
})();

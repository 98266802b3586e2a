// Operator terminal: an on-screen number pad for the quantity fields, setup/run minutes that keep counting
// between actions, and the panel's poll kept off the operator's work. Event delegation, because htmx swaps the
// panel in and out.
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
    // "0", or the machine's count suggested and not yet changed, is replaced by the first key typed.
    const suggested = field.hasAttribute("data-suggested") && field.value === field.defaultValue;
    const value = field.value === "0" || suggested ? "" : field.value;
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

  // The poll (#terminal-live) redraws what another terminal, the inspector, the planner or the machine changed,
  // but never over the operator's work. No poll goes out, and an answer arriving meanwhile is dropped (the next
  // poll asks again), while a field of the panel has the focus or holds something typed or chosen (a field back
  // at its first value, as the pad's Clear leaves it, does not count), the pause reasons are open, an action is
  // on its way, or a refusal has been on screen for less than REFUSAL_MS.
  const REFUSAL_MS = 15000;
  const edited = (field) => (field.type === "radio" || field.type === "checkbox"
    ? field.checked !== field.defaultChecked : field.value !== field.defaultValue);
  const busy = () => {
    const panel = document.getElementById("terminal-panel");
    if (!panel) return false;
    const focused = document.activeElement;
    const refusal = panel.querySelector("[role=alert]");
    return (panel.contains(focused) && focused.matches("input, textarea"))
      || [...panel.querySelectorAll("form input:not([type=hidden]), form textarea")].some(edited)
      || panel.querySelector("details[open]") !== null
      || document.querySelector(".htmx-request:not(#terminal-live)") !== null
      || (refusal !== null && Date.now() - Number(refusal.dataset.shownAt) < REFUSAL_MS);
  };
  const isPoll = (event) => event.detail.elt.id === "terminal-live";
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (isPoll(event) && busy()) event.preventDefault();
  });
  let listScroll = 0;  // the dispatch list scrolls on its own: a redraw keeps its place
  document.addEventListener("htmx:beforeSwap", (event) => {
    listScroll = document.querySelector(".dispatch-list")?.scrollTop ?? 0;
    if (!isPoll(event)) return;
    const url = event.detail.xhr.responseURL;
    if (url && new URL(url).pathname === event.detail.elt.dataset.login) {  // signed out: to the login page
      event.detail.shouldSwap = false;
      window.location.reload();
    } else if (!event.detail.elt.isConnected || busy()) {  // an action redrew the panel, or the operator began
      event.detail.shouldSwap = false;
    }
  });
  document.addEventListener("htmx:afterSettle", () => {
    const list = document.querySelector(".dispatch-list");
    if (list) list.scrollTop = listScroll;
    const refusal = document.querySelector("#terminal-panel [role=alert]:not([data-shown-at])");
    if (refusal) refusal.dataset.shownAt = Date.now();
  });
})();

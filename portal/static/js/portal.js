// Progressive enhancement only: every page works without JavaScript.
// Move focus to the page's heading so screen readers and keyboard users start at the content.
document.addEventListener("DOMContentLoaded", () => {
  const alert = document.querySelector("[role=alert]");
  if (alert) { alert.setAttribute("tabindex", "-1"); alert.focus(); }
});

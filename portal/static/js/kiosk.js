// Kiosk: end the session the moment the card leaves the reader (the bridge tells us), or
// after a short idle time, and leave nothing of the resident on screen.
(() => {
  "use strict";
  const config = document.getElementById("kiosk-config");
  if (!config) return;
  const {bridge, logoutUrl, startUrl, csrf} = config.dataset;
  const idleMs = Number(config.dataset.idleSeconds || 120) * 1000;
  let ending = false;

  function end(reason) {
    if (ending) return;
    ending = true;
    document.body.replaceChildren();  // nothing of the last resident stays visible
    fetch(logoutUrl, {method: "POST", credentials: "same-origin", keepalive: true,
                      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
                      body: JSON.stringify({reason})})
      .finally(() => window.location.replace(startUrl));
  }

  let timer = setTimeout(() => end("idle"), idleMs);
  for (const name of ["pointerdown", "keydown", "touchstart", "scroll"]) {
    window.addEventListener(name, () => { clearTimeout(timer); timer = setTimeout(() => end("idle"), idleMs); },
                            {passive: true});
  }
  const events = new EventSource(bridge + "/events");
  events.addEventListener("removed", () => end("card_removed"));
  // A page restored from the back-forward cache must not show the last resident.
  window.addEventListener("pageshow", (event) => { if (event.persisted) window.location.replace(startUrl); });
})();

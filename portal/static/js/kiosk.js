// Kiosk: end the session the moment the card leaves the reader (the bridge tells us), or
// after a short idle time, and leave nothing of the resident on screen. Twenty seconds
// before the idle logout a warning counts down; a tap anywhere keeps the session.
(() => {
  "use strict";
  const config = document.getElementById("kiosk-config");
  if (!config) return;
  const {bridge, logoutUrl, startUrl, csrf} = config.dataset;
  const idleMs = Number(config.dataset.idleSeconds || 120) * 1000;
  const WARN_MS = Math.min(20000, idleMs / 2);
  const warning = document.getElementById("kiosk-warning");
  const countdown = document.getElementById("kiosk-countdown");
  let ending = false;
  let idleTimer = null, warnTimer = null, tick = null;

  function end(reason) {
    if (ending) return;
    ending = true;
    document.body.replaceChildren();  // nothing of the last resident stays visible
    fetch(logoutUrl, {method: "POST", credentials: "same-origin", keepalive: true,
                      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
                      body: JSON.stringify({reason})})
      .finally(() => window.location.replace(startUrl));
  }

  function warn() {
    const until = Date.now() + WARN_MS;
    const update = () => { countdown.textContent = String(Math.max(0, Math.ceil((until - Date.now()) / 1000))); };
    update();
    warning.hidden = false;
    tick = setInterval(update, 250);
  }

  function restart() {
    clearTimeout(idleTimer);
    clearTimeout(warnTimer);
    clearInterval(tick);
    warning.hidden = true;
    warnTimer = setTimeout(warn, idleMs - WARN_MS);
    idleTimer = setTimeout(() => end("idle"), idleMs);
  }

  restart();
  for (const name of ["pointerdown", "keydown", "touchstart", "scroll"]) {
    window.addEventListener(name, restart, {passive: true});
  }
  const events = new EventSource(bridge + "/events");
  events.addEventListener("removed", () => end("card_removed"));
  // the bridge's first event says whether a card is present: from then on we listen
  events.addEventListener("state", () => { config.dataset.listening = "1"; });
  // A page restored from the back-forward cache must not show the last resident.
  window.addEventListener("pageshow", (event) => { if (event.persisted) window.location.replace(startUrl); });
})();

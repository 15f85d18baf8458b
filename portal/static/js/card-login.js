// Card login: ask the portal for a challenge, let the local card bridge (its own window,
// its own origin) take the PIN and sign, receive only the signed token back.
(() => {
  "use strict";
  const root = document.getElementById("card-login");
  if (!root) return;
  const messages = document.getElementById("card-messages").dataset;
  const status = document.getElementById("card-login-status");
  const button = document.getElementById("card-login-start");
  const bridge = root.dataset.bridge;
  const bridgeOrigin = new URL(bridge).origin;
  let bridgeWindow = null;

  function show(text, isError) {
    status.hidden = false;
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
    if (isError) { button.disabled = false; }
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf},
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    return {ok: response.ok, data};
  }

  // The bridge, asked before each sign-in: running (and recent enough), or the resident is
  // offered to start it, or sent to the help page; never left on a browser's error page.
  const absent = document.getElementById("card-bridge-absent");
  const helpUrl = root.dataset.helpUrl;

  async function bridgeStatus() {
    try {
      const response = await fetch(bridge + "/status", {credentials: "omit", cache: "no-store"});
      return response.ok ? await response.json() : null;
    } catch (e) { return null; }
  }

  // "1.2.3" < "1.10": numbers compared part by part; a bridge before 1.0 reported only
  // "madoguchi-bridge/<version>".
  function versionOf(state) { return String(state.version || String(state.bridge || "").split("/")[1] || "0"); }
  function older(version, wanted) {
    const a = version.split(".").map((p) => Number(p) || 0), b = wanted.split(".").map((p) => Number(p) || 0);
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if ((a[i] || 0) !== (b[i] || 0)) return (a[i] || 0) < (b[i] || 0);
    }
    return false;
  }

  // true when a bridge recent enough answers; otherwise says what to do and returns false.
  async function bridgeReady() {
    const state = await bridgeStatus();
    if (!state) {
      if (absent) { absent.hidden = false; }
      show(messages.noBridge, true);
      return false;
    }
    if (root.dataset.minVersion && older(versionOf(state), root.dataset.minVersion)) {
      window.location.assign(helpUrl + "?reason=outdated&found=" + encodeURIComponent(versionOf(state)));
      return false;
    }
    if (absent) { absent.hidden = true; }
    return true;
  }

  // The link opens madoguchi-bridge://start (the installed bridge's handler); wait for it.
  async function waitForLaunch(deadline) {
    if (await bridgeStatus()) {
      if (await bridgeReady()) { show(messages.launched, false); button.disabled = false; }
      return;
    }
    if (Date.now() > deadline) { window.location.assign(helpUrl + "?reason=absent"); return; }
    setTimeout(() => waitForLaunch(deadline), 500);
  }

  async function start() {
    button.disabled = true;
    show(messages.opening, false);
    // (a kiosk's own bridge was checked by checkKiosk; its pages never leave the kiosk)
    if (!root.dataset.requireKiosk && !(await bridgeReady())) return;
    const {ok, data} = await post(root.dataset.challengeUrl, {purpose: root.dataset.purpose});
    if (!ok) { show(data.message || data.error || messages.failed, true); return; }
    const url = bridge + "/sign?origin=" + encodeURIComponent(data.origin) +
      "&nonce=" + encodeURIComponent(data.nonce) + "&purpose=" + encodeURIComponent(data.purpose) +
      (root.dataset.kiosk ? "&kiosk=1" : "");
    bridgeWindow = window.open(url, "madoguchi-bridge", "popup,width=520,height=720");
    if (!bridgeWindow) { show(messages.popupBlocked, true); }
  }

  async function receiveToken(message) {
    show(messages.checking, false);
    const url = message.purpose === "enroll" ? root.dataset.enrollUrl : root.dataset.cardUrl;
    const {ok, data} = await post(url, message.token);
    if (ok && data.status === "enrollment_required") {
      show(messages.enrolling, false);
      bridgeWindow.postMessage({type: "madoguchi-enroll", nonce: data.nonce}, bridgeOrigin);
      return;
    }
    if (ok && (data.status === "signed_in" || data.status === "bound")) {
      if (bridgeWindow && !bridgeWindow.closed) { bridgeWindow.postMessage({type: "madoguchi-done"}, bridgeOrigin); }
      window.location.assign(data.redirect);
      return;
    }
    show(data.message || data.error || messages.failed, true);
    if (bridgeWindow && !bridgeWindow.closed) {
      bridgeWindow.postMessage({type: "madoguchi-refused", message: data.message || messages.failed}, bridgeOrigin);
    }
  }

  window.addEventListener("message", (event) => {
    // Only the configured bridge may answer, and only the window we opened.
    if (event.origin !== bridgeOrigin || !event.data || typeof event.data !== "object") return;
    // The bridge checks who opened it: answer its hello, to the bridge's origin only.
    if (event.data.type === "madoguchi-bridge-hello" && event.source) {
      event.source.postMessage({type: "madoguchi-opener"}, bridgeOrigin);
      // The bridge window is open: what the resident does now happens there, wrong PINs
      // and retries included.
      if (!status.classList.contains("error")) show(messages.pinPrompt, false);
    }
    if (event.data.type === "madoguchi-card-token") { receiveToken(event.data); }
    if (event.data.type === "madoguchi-bridge-error") { show(event.data.message || messages.cancelled, true); }
  });
  // A kiosk page needs its bridge in kiosk mode: without the card events, pulling the card
  // would leave the resident's pages on screen. Such a page refuses to start and says why.
  async function checkKiosk() {
    button.disabled = true;
    let state = null;
    try {
      const response = await fetch(bridge + "/status", {credentials: "omit", cache: "no-store"});
      state = response.ok ? await response.json() : null;
    } catch (e) { state = null; }
    if (!state || state.kiosk !== true) {
      show(state ? messages.notKiosk : messages.noBridge, true);
      button.disabled = true;
      setTimeout(checkKiosk, 3000);  // until the bridge runs in kiosk mode
      return;
    }
    status.hidden = true;
    button.disabled = false;
  }

  button.addEventListener("click", start);
  const launch = document.getElementById("card-bridge-launch");
  if (launch) {
    launch.addEventListener("click", () => {
      show(messages.launching, false);
      waitForLaunch(Date.now() + Number(root.dataset.launchWaitMs || 8000));
    });
  }
  if (root.dataset.requireKiosk) checkKiosk();
})();

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

  async function start() {
    button.disabled = true;
    show(messages.opening, false);
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
  if (root.dataset.requireKiosk) checkKiosk();
})();

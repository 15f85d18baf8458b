// The bridge window: confirm the requesting origin, take the PIN, hand the token to that one origin.
// The PIN (and the signing password) go only to this bridge's own /api, same origin, in a POST body.
// They are never put in a URL, in storage or in a postMessage, and each field is cleared as soon as
// it is read.
"use strict";

(() => {
  const root = document.getElementById("bridge");
  if (!root) return;
  const origin = root.dataset.origin;
  const grant = root.dataset.grant;
  const purpose = root.dataset.purpose; // "login" or "bind_staff": echoed so the portal knows the step
  const kiosk = root.dataset.kiosk === "1";
  const idleSeconds = Number(root.dataset.idle) || 120;
  const NONCE = /^[A-Za-z0-9+/_=-]{16,128}$/;
  const ENROLL_WAIT_MS = 20000; // the portal may ask for enrollment after posting the login token
  const CLOSE_DELAY_MS = 10000; // fallback: normally the portal answers "done" or "refused" at once
  let state = "origin"; // origin → pin → working → signed-in → password → working → finished
  let delivered = false; // a token (or an error) reached the portal: closing is no cancellation
  let enrollNonce = null;
  let closeTimer = null;
  let idleTimer = null;
  // Which page opened this window? A hello goes to the opener addressed to `origin`; the
  // browser delivers it only if the opener really is at that origin, and only then can the
  // answer come back. Until it has, the PIN cannot be asked for.
  const OPENER_WAIT_MS = 5000;
  let openerVerified = false;
  let helloTimer = null;

  const $ = (id) => document.getElementById(id);

  function show(step) {
    for (const section of document.querySelectorAll(".step")) section.hidden = section.id !== "step-" + step;
  }

  function toPortal(message) {
    // targetOrigin is the origin the resident confirmed, never the wildcard: no other site receives it.
    if (window.opener && !window.opener.closed) window.opener.postMessage(message, origin);
  }

  function say(error) {
    $("message-ja").textContent = error.message || "";
    $("message-en").textContent = error.message_en || "";
    $("message-actions").hidden = error.retry !== false;
    $("message").hidden = false;
  }

  function clearMessage() {
    $("message").hidden = true;
  }

  function wipe() {
    $("pin").value = "";
    $("password").value = "";
  }

  function closeSoon(ms) {
    clearTimeout(closeTimer);
    closeTimer = setTimeout(() => window.close(), ms);
  }

  function cancel(code, message) {
    if (!delivered) toPortal({ type: "madoguchi-bridge-error", code, message });
    delivered = true;
    state = "finished";
    wipe();
    show("none");
    clearMessage();
    window.close();
  }

  async function callCard(path, fields) {
    state = "working";
    show("working");
    clearMessage();
    try {
      const response = await fetch(path, {
        method: "POST", headers: { "Content-Type": "application/json" }, credentials: "omit",
        cache: "no-store", body: JSON.stringify(Object.assign({ grant }, fields)),
      });
      return await response.json();
    } catch (e) {
      return { error: { code: "bridge_unreachable", retry: true,
        message: "カード連携アプリと通信できませんでした。もう一度お試しください。",
        message_en: "Could not reach the card bridge. Try again." } };
    }
  }

  function failed(error, step) {
    say(error);
    if (error.retry !== false) {
      state = step;
      show(step);
      $(step).focus();
      return;
    }
    state = "finished";
    show("none");
    toPortal({ type: "madoguchi-bridge-error", code: error.code, message: error.message });
    delivered = true;
  }

  async function submitPin(event) {
    event.preventDefault();
    if (state !== "pin") return;
    const pin = $("pin").value;
    $("pin").value = "";
    if (!/^[0-9]{4}$/.test(pin)) {
      say({ message: "暗証番号は数字4桁で入力してください。", message_en: "The PIN is 4 digits.", retry: true });
      return;
    }
    const body = await callCard("/api/login", { pin });
    if (body.token) signedIn(body.token);
    else failed(body.error || {}, "pin");
  }

  function signedIn(token) {
    state = "signed-in";
    toPortal({ type: "madoguchi-card-token", purpose, token });
    delivered = true;
    $("done-text").textContent = "本人確認ができました。元の画面に戻ってください。";
    show("done");
    closeSoon(ENROLL_WAIT_MS);
  }

  function askPassword(nonce) {
    clearTimeout(closeTimer);
    enrollNonce = nonce;
    delivered = false;
    state = "password";
    show("password");
    $("password").focus();
  }

  async function submitPassword(event) {
    event.preventDefault();
    if (state !== "password") return;
    const password = $("password").value.toUpperCase();
    $("password").value = "";
    if (!/^[A-Z0-9]{6,16}$/.test(password)) {
      say({ message: "パスワードは英大文字と数字の6〜16文字で入力してください。",
        message_en: "The signing password is 6-16 characters, A-Z and 0-9.", retry: true });
      return;
    }
    const body = await callCard("/api/enroll", { password, nonce: enrollNonce });
    if (!body.token) {
      failed(body.error || {}, "password");
      return;
    }
    toPortal({ type: "madoguchi-card-token", purpose: "enroll", token: body.token });
    delivered = true;
    state = "finished";
    $("done-text").textContent = "カードの登録を送信しました。元の画面に戻ってください。";
    show("done");
    closeSoon(CLOSE_DELAY_MS);
  }

  function onPortalMessage(event) {
    // Only the window that opened us, and only from the origin the resident confirmed.
    if (event.origin !== origin || event.source !== window.opener) return;
    const data = event.data;
    if (!data || typeof data !== "object") return;
    if (data.type === "madoguchi-enroll" && state === "signed-in" && typeof data.nonce === "string"
        && NONCE.test(data.nonce)) {
      askPassword(data.nonce);
    } else if (data.type === "madoguchi-refused") {
      // The portal refused the token (e.g. no matching resident): say so here too, then stop.
      clearTimeout(closeTimer);
      state = "finished";
      show("none");
      say({ message: typeof data.message === "string" ? data.message : "ログインできませんでした。",
        message_en: "The portal refused the sign-in.", retry: false });
    } else if (data.type === "madoguchi-opener" && !openerVerified) {
      openerVerified = true;
      clearInterval(helloTimer);
      $("confirm-origin").disabled = false;
      // A kiosk's bridge serves its own portal only, in a browser showing nothing else:
      // asking the resident to confirm the site adds a tap and no safety. The PIN step
      // still names the site.
      if (kiosk) $("confirm-origin").click();
    } else if (data.type === "madoguchi-done") {
      delivered = true;
      wipe();
      window.close();
    }
  }

  function verifyOpener() {
    const started = Date.now();
    const hello = () => {
      if (openerVerified) return;
      if (Date.now() - started > OPENER_WAIT_MS) {
        clearInterval(helloTimer);
        state = "finished";
        delivered = true; // nothing to tell a page we could not verify
        show("none");
        say({ message: "この画面を開いたページが、表示されているサイトであることを確認できませんでした。"
            + "利用しているサイトの「マイナンバーカードでログイン」から開き直してください。",
          message_en: "The page that opened this window could not be confirmed as the site shown. "
            + "Open it again from the sign-in button of the site you are using.", retry: false });
        return;
      }
      toPortal({ type: "madoguchi-bridge-hello" });
    };
    hello();
    helloTimer = setInterval(hello, 250);
  }

  // -- on-screen keys (kiosk) ------------------------------------------------------------------

  function onKey(event) {
    const button = event.target.closest("button.key");
    if (!button) return;
    const input = $(button.parentElement.dataset.for);
    const key = button.dataset.key;
    if (key === "clear") input.value = "";
    else if (key === "back") input.value = input.value.slice(0, -1);
    else if (input.value.length < input.maxLength) input.value += key;
  }

  function watchCard() {
    // The kiosk's card left the reader: nothing of this resident may stay on screen.
    const events = new EventSource("/events");
    events.addEventListener("removed", () => {
      events.close();
      cancel("card_removed", "カードが取り外されました。");
    });
  }

  function resetIdle() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => cancel("timeout", "一定時間操作がなかったため終了しました。"), idleSeconds * 1000);
  }

  // -- wiring -----------------------------------------------------------------------------------

  $("confirm-origin").addEventListener("click", () => {
    if (!openerVerified || state !== "origin") return; // not only the disabled attribute
    state = "pin";
    show("pin");
    $("pin").focus();
  });
  for (const button of document.querySelectorAll("button.cancel")) {
    button.addEventListener("click", () => cancel("cancelled", "本人確認をやめました。"));
  }
  $("close").addEventListener("click", () => window.close());
  $("pin-form").addEventListener("submit", submitPin);
  $("password-form").addEventListener("submit", submitPassword);
  $("password").addEventListener("input", () => {
    const input = $("password");
    input.value = input.value.toUpperCase().replace(/[^A-Z0-9]/g, "");
  });
  window.addEventListener("message", onPortalMessage);
  window.addEventListener("pagehide", () => {
    if (!delivered) toPortal({ type: "madoguchi-bridge-error", code: "cancelled", message: "本人確認をやめました。" });
    delivered = true;
    wipe();
  });
  if (!window.opener) {
    show("none");
    say({ message: "この画面はポータルの「マイナンバーカードでログイン」から開いてください。",
      message_en: "Open this window from the portal's card sign-in button.", retry: false });
    return;
  }
  verifyOpener();
  if (kiosk) {
    document.addEventListener("click", onKey);
    document.addEventListener("pointerdown", resetIdle);
    document.addEventListener("keydown", resetIdle);
    resetIdle();
    watchCard();
  }
})();

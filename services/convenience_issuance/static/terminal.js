// Reference store terminal: the same JSON API a multi-copy terminal uses. The card bridge
// (its own window and origin) takes the PIN and signs; only the signed token comes back.
(() => {
  "use strict";
  const root = document.getElementById("terminal");
  if (!root) return;
  const text = document.getElementById("terminal-messages").dataset;
  // certificate names in the page's language (the API's are Japanese)
  const labels = JSON.parse(text.labels || "{}");
  const labelOf = (type, label) => labels[type] || label;
  // the city's name as the page's list of cities gives it, in the page's language (the
  // API's is Japanese)
  const cityName = (city) => {
    const option = Array.from($("city").options).find((o) => o.value === city.code);
    return option ? option.textContent : city.name;
  };
  const api = root.dataset.api;
  const bridge = root.dataset.bridge;
  const bridgeOrigin = new URL(bridge).origin;
  const $ = (id) => document.getElementById(id);
  let challenge = null, accessToken = null, bridgeWindow = null, idempotencyKey = null, fee = 0;

  function show(message, isError) {
    const status = $("status");
    status.hidden = false;
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  function step(name) {
    for (const id of ["step-city", "step-choose", "step-options", "step-pay"]) { $(id).hidden = id !== name; }
  }

  async function call(method, path, body) {
    const headers = {"Content-Type": "application/json"};
    if (accessToken) headers.Authorization = "Bearer " + accessToken;
    if (idempotencyKey && path.endsWith("/payment")) headers["Idempotency-Key"] = idempotencyKey;
    const response = await fetch(api + path, {method, headers, credentials: "omit",
      body: body === undefined ? undefined : JSON.stringify(body)});
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    return {ok: response.ok, data};
  }

  async function start() {
    const {ok, data} = await call("POST", "/sessions/challenge",
      {municipality: $("city").value, terminal_id: root.dataset.terminalId});
    if (!ok) { show(data.message || text.failed, true); return; }
    challenge = data;
    show(text.placeCard, false);
    const url = bridge + "/sign?origin=" + encodeURIComponent(data.origin) +
      "&nonce=" + encodeURIComponent(data.nonce) + "&purpose=login&kiosk=1";
    bridgeWindow = window.open(url, "madoguchi-bridge", "popup,width=520,height=720");
    if (!bridgeWindow) show(text.popupBlocked, true);
  }

  async function receiveToken(token) {
    const {ok, data} = await call("POST", "/sessions", {request_id: challenge.request_id,
      nonce: challenge.nonce, terminal_id: root.dataset.terminalId, token});
    if (bridgeWindow && !bridgeWindow.closed) {
      bridgeWindow.postMessage(ok ? {type: "madoguchi-done"} :
        {type: "madoguchi-refused", message: data.message || text.failed}, bridgeOrigin);
    }
    if (!ok) { show(data.message || text.failed, true); return; }
    accessToken = data.access_token;
    $("holder").textContent = data.holder.masked_name + " — " + cityName(data.municipality);
    renderOffers(data.catalogue);
    $("status").hidden = true;
    step("step-choose");
  }

  // Options a resident may pick on the paper (記載事項), shown only once a certificate is chosen.
  const PRINTED_OPTIONS = ["household", "relationship", "honseki"];
  let chosen = null;

  function renderOffers(offers) {
    const list = $("offers");
    list.replaceChildren();
    for (const offer of offers) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button tile" + (offer.available ? "" : " unavailable");
      button.textContent = labelOf(offer.certificate_type, offer.label) + "　" + offer.fee + text.yen;
      button.disabled = !offer.available;
      button.addEventListener("click", () => choose(offer));
      item.append(button);
      if (!offer.available && offer.reason) {
        // a touch screen shows no tooltip: the reason is text under the button
        const reason = document.createElement("p");
        reason.className = "reason";
        reason.id = "reason-" + offer.certificate_type;
        reason.textContent = offer.reason.message;
        button.setAttribute("aria-describedby", reason.id);
        item.append(reason);
      }
      list.append(item);
    }
  }

  function choose(offer) {
    chosen = offer;
    const printed = PRINTED_OPTIONS.filter((o) => (offer.options || []).includes(o));
    if (!printed.length) { quote(offer, {}); return; }
    for (const label of document.querySelectorAll("#certificate-options label")) {
      label.hidden = !printed.includes(label.dataset.option);
      label.querySelector("input").checked = false;
    }
    $("options-for").textContent = "（" + labelOf(offer.certificate_type, offer.label) + "）";
    step("step-options");
  }

  function chosenOptions() {
    const options = {};
    for (const name of PRINTED_OPTIONS) {
      if ((chosen.options || []).includes(name)) options[name] = $("opt-" + name).checked;
    }
    return options;
  }

  async function quote(offer, options) {
    if (offer.fiscal_years && offer.fiscal_years.length) {
      options.fiscal_year = offer.fiscal_years[offer.fiscal_years.length - 1];
    }
    const {ok, data} = await call("POST", "/request/quote", {certificate_type: offer.certificate_type, options});
    if (!ok) { show(data.message || text.failed, true); return; }
    fee = data.fee;
    idempotencyKey = "ref-" + crypto.randomUUID();
    $("quote").textContent = labelOf(offer.certificate_type, data.label) + "　" + data.fee + text.yen;
    step("step-pay");
  }

  async function pay() {
    $("pay").disabled = true;
    const {ok, data} = await call("POST", "/request/payment", {amount: fee});
    if (!ok) { show(data.message || text.failed, true); $("pay").disabled = false; return; }
    show(text.paid, false);
    const pdf = await fetch(data.certificate.pdf_url, {headers: {Authorization: "Bearer " + accessToken}});
    const printed = pdf.ok;
    if (printed) window.open(URL.createObjectURL(await pdf.blob()), "_blank");
    const outcome = await call("POST", "/request/outcome", {result: printed ? "printed" : "failed"});
    const refunded = outcome.data.amount_refunded;
    if (printed) show(text.printed, false);
    else if (refunded) show(text.refunded.replace("{amount}", refunded.toLocaleString("ja-JP")), true);
    else show(text.failed, true);
    accessToken = null;
    $("pay").disabled = false;
    step("step-city");  // done: the message stays, the terminal is ready for the next person
  }

  async function cancel() {
    await call("DELETE", "/request");
    accessToken = null;
    step("step-city");
  }

  window.addEventListener("message", (event) => {
    if (event.origin !== bridgeOrigin || !event.data || typeof event.data !== "object") return;
    // The bridge checks who opened it: answer its hello, to the bridge's origin only.
    if (event.data.type === "madoguchi-bridge-hello" && event.source) {
      event.source.postMessage({type: "madoguchi-opener"}, bridgeOrigin);
    }
    if (event.data.type === "madoguchi-card-token") receiveToken(event.data.token);
    if (event.data.type === "madoguchi-bridge-error") show(event.data.message || text.failed, true);
  });
  $("start").addEventListener("click", start);
  $("pay").addEventListener("click", pay);
  $("cancel").addEventListener("click", cancel);
  $("options-next").addEventListener("click", () => quote(chosen, chosenOptions()));
  $("options-back").addEventListener("click", () => step("step-choose"));
})();

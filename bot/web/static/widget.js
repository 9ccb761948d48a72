/* Chat widget for the MFA help desk: talks to the Rasa-style REST channel,
 * restores the conversation from the server's history and listens for
 * messages the bot sends later (test-call outcomes) over Server-Sent Events.
 * Bot text is always rendered through DOM APIs; only `custom.html`, which the
 * server has already sanitised, goes through innerHTML (and is checked again). */
"use strict";

(() => {
  const SENDER_KEY = "mfa-helpdesk-sender";
  // The conversation's credential: the server returns it with the first reply and asks for
  // it on every later turn, the history and the live stream (a sender id is not a secret).
  const CREDENTIAL_KEY = "mfa-helpdesk-credential";
  const CREDENTIAL_HEADER = "X-Conversation-Token";
  const MAX_CHARS = 2000;
  const COUNTER_FROM = 1800; // show the counter only when the limit is near
  const REQUEST_TIMEOUT_MS = 30000;
  const UNREACHABLE =
    "Sorry, the assistant can't be reached right now. Please try again, " +
    "or call the CSRA Call Center at 800-688-6696.";
  const WELCOME =
    "Hi! I can help with NCTracks multi-factor authentication: error codes such as " +
    "E05, setting up the phone call or the authenticator app, confirmation calls " +
    "that fail, new activation codes and reaching the call center. How can I help?";
  const SUGGESTIONS = [
    "I got error E05",
    "Set up the phone call method",
    "Set up the authenticator app",
    "Call center hours",
  ];

  const el = {};
  let senderId = "";
  let credential = "";
  let stream = null;
  let busy = false;

  // ---- sender id -------------------------------------------------------

  // crypto.randomUUID exists only in secure contexts (https, localhost);
  // the help desk may be opened over plain http on an intranet address.
  function newUuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // Storage can be blocked (private mode, policies): fall back to a
  // per-page id rather than breaking the chat.
  function loadSenderId() {
    try {
      const stored = localStorage.getItem(SENDER_KEY);
      if (stored) return stored;
    } catch (_) { /* storage unavailable */ }
    return resetSenderId();
  }

  function resetSenderId() {
    const id = newUuid();
    credential = "";
    try {
      localStorage.setItem(SENDER_KEY, id);
      localStorage.removeItem(CREDENTIAL_KEY);
    } catch (_) { /* storage unavailable */ }
    return id;
  }

  function loadCredential() {
    try { return localStorage.getItem(CREDENTIAL_KEY) || ""; } catch (_) { return ""; }
  }

  function saveCredential(value) {
    credential = value;
    try { localStorage.setItem(CREDENTIAL_KEY, value); } catch (_) { /* storage unavailable */ }
  }

  function credentialHeaders(headers) {
    return credential ? { ...headers, [CREDENTIAL_HEADER]: credential } : headers;
  }

  // ---- rendering ---------------------------------------------------------

  function srLabel(text) {
    const span = document.createElement("span");
    span.className = "visually-hidden";
    span.textContent = text;
    return span;
  }

  function makeLink(href, label) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = label;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  // Plain text with bare http(s) URLs turned into links; line breaks are kept
  // by `white-space: pre-wrap` in the stylesheet.
  function renderText(text) {
    const box = document.createElement("div");
    box.className = "text";
    const urlPattern = /https?:\/\/[^\s<>"']+/g;
    let last = 0;
    for (const match of text.matchAll(urlPattern)) {
      // Sentence punctuation after a URL belongs to the sentence.
      const url = match[0].replace(/[.,;:!?)\]]+$/, "");
      box.append(text.slice(last, match.index), makeLink(url, url));
      last = match.index + url.length;
    }
    box.append(text.slice(last));
    return box;
  }

  const ALLOWED_TAGS = new Set([
    "P", "BR", "HR", "A", "STRONG", "B", "EM", "I", "CODE", "PRE", "UL", "OL", "LI",
    "BLOCKQUOTE", "H1", "H2", "H3", "H4", "H5", "H6", "TABLE", "THEAD", "TBODY", "TR",
    "TH", "TD", "IMG", "SPAN", "DEL", "S",
  ]);
  const ALLOWED_ATTRS = new Set(["href", "src", "alt", "title", "start", "colspan", "rowspan"]);
  // Dropped with their content; any other unknown element is unwrapped so its text survives.
  const DROPPED_TAGS = new Set([
    "SCRIPT", "STYLE", "IFRAME", "OBJECT", "EMBED", "TEMPLATE", "SVG", "MATH", "FORM",
    "INPUT", "BUTTON", "TEXTAREA", "SELECT", "LINK", "META", "BASE", "NOSCRIPT",
  ]);

  // The server sanitises custom.html; this second pass (in an inert
  // <template>, so nothing loads or runs) keeps one server bug from becoming
  // script in the user's browser.
  function renderHtml(html) {
    const tpl = document.createElement("template");
    tpl.innerHTML = html;
    for (const node of Array.from(tpl.content.querySelectorAll("*"))) {
      const tag = node.tagName.toUpperCase();
      if (!ALLOWED_TAGS.has(tag)) {
        if (DROPPED_TAGS.has(tag)) node.remove();
        else node.replaceWith(...node.childNodes);
        continue;
      }
      for (const attr of Array.from(node.attributes)) {
        const name = attr.name.toLowerCase();
        const unsafeUrl = (name === "href" || name === "src") && !isSafeUrl(attr.value, name === "src");
        if (!ALLOWED_ATTRS.has(name) || unsafeUrl) node.removeAttribute(attr.name);
      }
      if (tag === "A") {
        node.target = "_blank";
        node.rel = "noopener noreferrer";
      }
    }
    const box = document.createElement("div");
    box.className = "rich";
    box.append(tpl.content);
    return box;
  }

  function isSafeUrl(value, allowDataImage) {
    if (allowDataImage && /^data:image\/(png|jpe?g|gif|webp|svg\+xml);/i.test(value)) return true;
    try {
      const url = new URL(value, location.href);
      return ["http:", "https:", "mailto:", "tel:"].includes(url.protocol);
    } catch (_) {
      return false;
    }
  }

  function renderImage(src, alt) {
    if (!isSafeUrl(src, true)) return null;
    const img = document.createElement("img");
    img.src = src;
    img.alt = alt || "Image from the assistant";
    // The log scrolled before the picture had a height: scroll again once it has.
    img.addEventListener("load", scrollToEnd, { once: true });
    return img;
  }

  function renderButtons(buttons, className) {
    const box = document.createElement("div");
    box.className = className;
    for (const b of buttons) {
      if (!b || !b.title) continue;
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = b.title;
      const payload = b.payload || b.title;
      button.addEventListener("click", () => sendMessage(payload, { shown: b.title }));
      box.append(button);
    }
    return box;
  }

  function appendToLog(node) {
    // The typing indicator always stays last.
    el.log.insertBefore(node, el.typing);
    scrollToEnd();
  }

  function scrollToEnd() {
    const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    el.log.scrollTo({ top: el.log.scrollHeight, behavior: reduce ? "auto" : "smooth" });
  }

  function addUserMessage(text) {
    const msg = document.createElement("div");
    msg.className = "msg user";
    msg.append(srLabel("You said: "), renderText(text));
    appendToLog(msg);
    return msg;
  }

  function addBotMessage(message) {
    if (!message || typeof message !== "object") return null;
    const custom = message.custom && typeof message.custom === "object" ? message.custom : {};
    const msg = document.createElement("div");
    msg.className = "msg bot";
    msg.append(srLabel("Assistant said: "));
    if (typeof custom.html === "string" && custom.html) msg.append(renderHtml(custom.html));
    else if (typeof message.text === "string" && message.text) msg.append(renderText(message.text));
    if (typeof message.image === "string" && message.image) {
      const img = renderImage(message.image, custom.alt);
      if (img) msg.append(img);
    }
    if (Array.isArray(message.buttons) && message.buttons.length) {
      msg.append(renderButtons(message.buttons, "buttons"));
    }
    // Nothing renderable (e.g. a custom payload meant for another channel).
    if (msg.childElementCount === 1) return null;
    appendToLog(msg);
    return msg;
  }

  function addWelcome() {
    const msg = document.createElement("div");
    msg.className = "msg welcome";
    msg.append(srLabel("Assistant said: "), renderText(WELCOME));
    msg.append(renderButtons(SUGGESTIONS.map((s) => ({ title: s, payload: s })), "suggestions"));
    appendToLog(msg);
  }

  // Only the newest message offering choices stays clickable, and only until
  // the user has said something after it: older choices would answer a
  // question the conversation has moved past.
  function refreshButtons() {
    const messages = Array.from(el.log.querySelectorAll(".msg"));
    let live = null;
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i];
      if (m.classList.contains("user")) break;
      if (m.querySelector(".buttons button, .suggestions button")) { live = m; break; }
    }
    for (const button of el.log.querySelectorAll(".msg .buttons button, .msg .suggestions button")) {
      const enabled = !busy && button.closest(".msg") === live;
      button.disabled = !enabled;
      button.setAttribute("aria-disabled", String(!enabled));
    }
  }

  function clearLog() {
    for (const msg of el.log.querySelectorAll(".msg")) msg.remove();
  }

  // ---- notices, typing, counter --------------------------------------------

  function showNotice(text) {
    clearNotice();
    const p = document.createElement("p");
    p.className = "notice";
    p.setAttribute("role", "alert");
    p.textContent = text;
    el.notices.append(p);
  }

  function clearNotice() {
    el.notices.replaceChildren();
  }

  function setBusy(value) {
    busy = value;
    el.typing.hidden = !value;
    el.send.disabled = value;
    el.log.setAttribute("aria-busy", String(value));
    if (value) scrollToEnd(); // bring the dots into view
    refreshButtons();
  }

  function updateCounter() {
    const length = el.input.value.length;
    el.counter.hidden = length < COUNTER_FROM;
    // Empty while hidden, so the input's description stays quiet until it matters.
    el.counter.textContent = el.counter.hidden ? "" : `${length} / ${MAX_CHARS} characters`;
    el.counter.classList.toggle("at-limit", length >= MAX_CHARS);
    // Grow the box with its content, up to the cap set in CSS.
    el.input.style.height = "auto";
    el.input.style.height = `${el.input.scrollHeight}px`;
  }

  // ---- server calls --------------------------------------------------------

  class ServerError extends Error {}
  class LostConversation extends Error {}

  async function fetchWithTimeout(url, options = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      return await fetch(url, { ...options, signal: controller.signal });
    } finally {
      clearTimeout(timer);
    }
  }

  // 4xx answers carry a message meant for the user; anything else
  // (network, 5xx, garbage) gets the generic apology.
  async function errorText(response) {
    if (response.status >= 400 && response.status < 500) {
      try {
        const body = await response.json();
        if (body && typeof body.error === "string" && body.error) return body.error;
      } catch (_) { /* not JSON */ }
    }
    return UNREACHABLE;
  }

  async function postMessage(text) {
    const response = await fetchWithTimeout("/webhooks/rest/webhook", {
      method: "POST",
      headers: credentialHeaders({ "Content-Type": "application/json" }),
      body: JSON.stringify({ sender: senderId, message: text, metadata: { channel: "web" } }),
    });
    // 403: this browser does not hold the conversation's credential (it was started before
    // credentials existed, or elsewhere).
    if (response.status === 403) throw new LostConversation();
    if (!response.ok) throw new ServerError(await errorText(response));
    const issued = response.headers.get(CREDENTIAL_HEADER);
    if (issued) {
      saveCredential(issued);
      openStream();
    }
    const replies = await response.json();
    if (!Array.isArray(replies)) throw new ServerError(UNREACHABLE);
    return replies;
  }

  // Returns null when the server has no conversation for this sender yet.
  async function fetchHistory() {
    if (!credential) return null; // nothing was said yet, or it was said elsewhere
    const url = `/conversations/${encodeURIComponent(senderId)}/messages`;
    const response = await fetchWithTimeout(url, { headers: credentialHeaders({ Accept: "application/json" }) });
    if (response.status === 404 || response.status === 403) return null;
    if (!response.ok) throw new ServerError(await errorText(response));
    const body = await response.json();
    return Array.isArray(body.messages) ? body.messages : [];
  }

  // Bot messages pushed later (e.g. the outcome of a test call). EventSource
  // reconnects on its own; if the endpoint is missing it gives up and the
  // chat simply works without live updates.
  function openStream() {
    closeStream();
    if (!("EventSource" in window) || !credential) return;
    // EventSource cannot send headers: the credential goes in the query (the access log
    // records the route's template, not the URL).
    const query = `?credential=${encodeURIComponent(credential)}`;
    stream = new EventSource(`/conversations/${encodeURIComponent(senderId)}/stream${query}`);
    stream.onmessage = (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch (_) { return; }
      if (message && typeof message === "object") {
        addBotMessage(message);
        refreshButtons();
      }
    };
  }

  function closeStream() {
    if (stream) stream.close();
    stream = null;
  }

  // ---- behaviour -------------------------------------------------------------

  function sendTyped() {
    sendMessage(el.input.value, { fromInput: true });
  }

  // `text` is what the server receives (a button's payload); `shown` is what
  // the user's bubble says (the button's title).
  async function sendMessage(text, { shown = text, fromInput = false } = {}) {
    if (busy || !text.trim()) return;
    let forSender = senderId;
    clearNotice();
    const bubble = addUserMessage(shown);
    if (fromInput) el.input.value = "";
    updateCounter();
    setBusy(true);
    el.input.focus();
    try {
      let replies;
      try {
        replies = await postMessage(text);
      } catch (error) {
        if (!(error instanceof LostConversation) || forSender !== senderId) throw error;
        senderId = resetSenderId(); // go on in a new conversation of this browser's own
        forSender = senderId;
        replies = await postMessage(text);
      }
      if (forSender !== senderId) return; // the user started over meanwhile
      for (const reply of replies) addBotMessage(reply);
    } catch (error) {
      if (forSender !== senderId) return;
      // Take the bubble back and keep the words, so a retry loses nothing.
      bubble.remove();
      if (fromInput && !el.input.value) el.input.value = shown;
      updateCounter();
      showNotice(error instanceof ServerError ? error.message : UNREACHABLE);
    } finally {
      if (forSender === senderId) setBusy(false);
      el.input.focus();
    }
  }

  function renderHistory(messages) {
    let lastBot = null;
    for (const m of messages) {
      if (m.from === "user") {
        if (typeof m.text !== "string") continue;
        // A clicked button was sent as its payload; show its title as it was shown then.
        const button = lastBot && Array.isArray(lastBot.buttons)
          ? lastBot.buttons.find((b) => b && b.payload === m.text)
          : null;
        addUserMessage(button && button.title ? button.title : m.text);
      } else {
        addBotMessage(m);
        lastBot = m;
      }
    }
  }

  async function restoreConversation() {
    const forSender = senderId;
    let messages = null;
    try {
      messages = await fetchHistory();
    } catch (_) {
      showNotice(UNREACHABLE);
    }
    if (forSender !== senderId) return; // "New conversation" was pressed meanwhile
    if (messages && messages.length) renderHistory(messages);
    else addWelcome();
    refreshButtons();
    openStream();
  }

  function startNewConversation() {
    closeStream();
    senderId = resetSenderId();
    clearLog();
    clearNotice();
    el.input.value = "";
    updateCounter();
    setBusy(false);
    addWelcome();
    refreshButtons();
    openStream();
    el.input.focus();
  }

  function onKeyDown(event) {
    // Enter sends, Shift+Enter is a new line; never interrupt IME composition.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendTyped();
    }
  }

  function init() {
    el.log = document.getElementById("chat-log");
    el.typing = document.getElementById("chat-typing");
    el.notices = document.getElementById("chat-notices");
    el.form = document.getElementById("chat-form");
    el.input = document.getElementById("chat-input");
    el.send = document.getElementById("chat-send");
    el.counter = document.getElementById("chat-counter");
    el.newConversation = document.getElementById("new-conversation");

    el.input.maxLength = MAX_CHARS;
    el.form.addEventListener("submit", (event) => {
      event.preventDefault();
      sendTyped();
    });
    el.input.addEventListener("keydown", onKeyDown);
    el.input.addEventListener("input", updateCounter);
    el.newConversation.addEventListener("click", startNewConversation);

    updateCounter();
    senderId = loadSenderId();
    credential = loadCredential();
    restoreConversation();
  }

  document.addEventListener("DOMContentLoaded", init);
})();

// Phone simulator: polls the ringing calls and sends each button as a signed webhook
// (the server builds and signs it exactly as Twilio would).
(function () {
  "use strict";
  const list = document.getElementById("calls");
  const idle = document.getElementById("idle");
  const template = document.getElementById("call-template");
  const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
  const STATES = { ringing: "Ringing…", "in-progress": "In call", ended: "Call ended" };
  const shown = new Map(); // sid -> element; ended calls stay visible with their last words

  function render(call) {
    let el = shown.get(call.sid);
    if (!el) {
      el = template.content.firstElementChild.cloneNode(true);
      el.dataset.sid = call.sid;
      const pad = el.querySelector(".keypad");
      for (const key of KEYS) {
        const b = document.createElement("button");
        b.textContent = key;
        b.dataset.action = "press";
        b.dataset.digit = key;
        b.setAttribute("aria-label", "Key " + key);
        pad.appendChild(b);
      }
      el.addEventListener("click", onClick);
      list.prepend(el);
      shown.set(call.sid, el);
    }
    el.className = "call " + call.state;
    el.querySelector(".to").textContent = "Incoming call to " + call.to;
    el.querySelector(".state").textContent = STATES[call.state] || call.state;
    if (call.say.length) el.querySelector(".say").textContent = call.say.join(" ");
    el.querySelectorAll("button").forEach((b) => { b.disabled = call.state === "ended"; });
  }

  function update(calls) {
    const active = new Set(calls.map((c) => c.sid));
    for (const [sid, el] of shown) {
      if (!active.has(sid) && !el.classList.contains("ended")) {
        el.className = "call ended";
        el.querySelector(".state").textContent = STATES.ended;
        el.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      }
    }
    calls.forEach(render);
    idle.hidden = shown.size > 0;
  }

  async function onClick(event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const sid = event.currentTarget.dataset.sid;
    const body = button.dataset.digit ? { digit: button.dataset.digit } : {};
    const response = await fetch("/dev/phone/calls/" + sid + "/" + button.dataset.action, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    if (response.ok) {
      const data = await response.json();
      render(data.call);
      update(data.calls);
    }
  }

  async function poll() {
    try {
      const response = await fetch("/dev/phone/calls", { cache: "no-store" });
      if (response.ok) update((await response.json()).calls);
    } catch (_) { /* server restarting: try again */ }
    setTimeout(poll, 1000);
  }
  poll();
})();

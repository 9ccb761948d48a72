// Staff console: live conversation view (poll for new messages, send replies without a reload).
// Everything else works with plain forms.
(function () {
  "use strict";
  const main = document.getElementById("main");
  const csrf = main ? main.dataset.csrf : "";

  function live(root) {
    const sender = root.dataset.sender;
    const list = root.querySelector(".transcript");
    let after = Number(root.dataset.after || "0");
    const base = `/staff/conversations/${encodeURIComponent(sender)}`;

    function add(item) {
      const li = document.createElement("li");
      li.className = item.role;
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = item.who + ":";
      li.appendChild(who);
      li.appendChild(document.createTextNode(item.text || ""));
      list.appendChild(li);
      list.scrollTop = list.scrollHeight;
    }

    async function poll() {
      try {
        const response = await fetch(`${base}/messages?after=${after}`, { headers: { Accept: "application/json" } });
        if (response.ok) {
          const body = await response.json();
          for (const item of body.messages) { add(item); after = Math.max(after, item.id); }
          const state = root.querySelector("[data-role=state]");
          if (state && body.state_label) state.textContent = body.state_label;
        }
      } catch (_) { /* the next poll tries again */ }
    }

    const form = root.querySelector("form.reply");
    if (form) {
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const input = form.querySelector("textarea");
        const status = form.querySelector("[role=status]");
        const text = input.value.trim();
        if (!text) return;
        const response = await fetch(form.action, {
          method: "POST",
          headers: { "X-CSRF-Token": csrf, Accept: "application/json",
                     "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ text }),
        });
        if (response.ok) { input.value = ""; status.textContent = "Sent."; await poll(); }
        else { status.textContent = "Not sent: " + (await response.text()).slice(0, 200); }
        input.focus();
      });
    }
    setInterval(poll, 1500);
  }

  // The conversation list refreshes itself, so a newly waiting user shows up without a reload.
  function refreshList(table) {
    setInterval(async () => {
      try {
        const response = await fetch(window.location.href, { headers: { Accept: "text/html" } });
        if (!response.ok) return;
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        const fresh = doc.getElementById(table.id);
        if (fresh) table.replaceChildren(...fresh.childNodes);
      } catch (_) { /* the next refresh tries again */ }
    }, 5000);
  }

  document.querySelectorAll("[data-live-conversation]").forEach(live);
  document.querySelectorAll("table[data-auto-refresh]").forEach(refreshList);
})();

// ExpertBot widget: builds its panel on first open, streams replies over fetch + SSE.
(function () {
  "use strict";
  var root = document.querySelector("[data-chat]");
  if (!root) return;
  var openBtn = root.querySelector(".chat-open");
  var panel, log, form, input, sendBtn, stopBtn, retryBtn, status;
  var history = [];
  var controller = null;
  var lastText = "";

  function region() {
    var r = document.documentElement.getAttribute("data-region");
    if (r) return r;
    return location.pathname.split("/")[1] || "";
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }

  function build() {
    var css = el("link", { rel: "stylesheet", href: root.getAttribute("data-css") });
    document.head.appendChild(css);
    var bot = root.getAttribute("data-bot") || "ExpertBot";
    panel = el("section", { id: "chat-panel", class: "chat-panel", role: "dialog", "aria-labelledby": "chat-title", hidden: "" });
    var head = el("div", { class: "chat-head" });
    head.appendChild(el("h2", { id: "chat-title" }, bot));
    var close = el("button", { type: "button", class: "chat-close", "aria-label": "Close chat" }, "×");
    head.appendChild(close);
    panel.appendChild(head);
    var notice = el("p", { class: "chat-notice" }, "Your messages may go to an AI provider named in our privacy policy; we do not store them. Please leave out sensitive details. ");
    notice.appendChild(el("a", { href: "/" + region() + "/legal/privacy/" }, "Privacy"));
    panel.appendChild(notice);
    log = el("div", { class: "chat-log", role: "log", "aria-live": "polite" });
    panel.appendChild(log);
    status = el("p", { class: "chat-status", role: "status" });
    panel.appendChild(status);
    form = el("form", { class: "chat-form" });
    input = el("textarea", { name: "message", rows: "2", "aria-label": "Your message", maxlength: "2000", required: "" });
    sendBtn = el("button", { type: "submit" }, "Send");
    stopBtn = el("button", { type: "button", class: "chat-stop", hidden: "" }, "Stop");
    retryBtn = el("button", { type: "button", class: "chat-retry", hidden: "" }, "Retry");
    [input, sendBtn, stopBtn, retryBtn].forEach(function (n) { form.appendChild(n); });
    panel.appendChild(form);
    root.appendChild(panel);
    close.addEventListener("click", hide);
    form.addEventListener("submit", function (e) { e.preventDefault(); send(input.value.trim()); });
    stopBtn.addEventListener("click", function () { if (controller) controller.abort(); });
    retryBtn.addEventListener("click", function () { retryBtn.hidden = true; send(lastText); });
    // On the document: focus may sit on a Send button that went disabled while answering.
    document.addEventListener("keydown", function (e) { if (e.key === "Escape" && !panel.hidden) hide(); });
  }

  function show() {
    if (!panel) build();
    panel.hidden = false;
    openBtn.setAttribute("aria-expanded", "true");
    input.focus();
  }

  function hide() {
    panel.hidden = true;
    openBtn.setAttribute("aria-expanded", "false");
    openBtn.focus();
  }

  function bubble(role, text) {
    var p = el("p", { class: "chat-msg chat-" + role }, text);
    log.appendChild(p);
    log.scrollTop = log.scrollHeight;
    return p;
  }

  // An answer: an optional note ("Quick answers from this site"), the text, then its links.
  // Everything from the server goes in through textContent/setAttribute, never as HTML.
  function answer() {
    var box = el("div", { class: "chat-msg chat-assistant" });
    var note = el("p", { class: "chat-note", hidden: "" });
    var text = el("p", { class: "chat-text" });
    box.appendChild(note);
    box.appendChild(text);
    log.appendChild(box);
    return {
      note: function (s) { note.textContent = s || ""; note.hidden = !s; },
      text: function (s) { text.textContent = s; log.scrollTop = log.scrollHeight; },
      links: function (links) {
        var list = el("ul", { class: "chat-links" });
        (links || []).slice(0, 3).forEach(function (l) {
          // Only this site's own pages: a path, never another origin or a javascript: URL.
          if (!l || typeof l.url !== "string" || !/^\/(?!\/)/.test(l.url) || !l.title) return;
          var li = el("li");
          li.appendChild(el("a", { href: l.url }, String(l.title)));
          list.appendChild(li);
        });
        if (list.childNodes.length) box.appendChild(list);
        log.scrollTop = log.scrollHeight;
      }
    };
  }

  function busy(on) {
    sendBtn.disabled = on;
    stopBtn.hidden = !on;
  }

  function send(text) {
    if (!text || controller) return;
    lastText = text;
    retryBtn.hidden = true;
    history.push({ role: "user", content: text });
    bubble("user", text);
    var reply = answer();
    var got = "";
    var failed = false;
    controller = new AbortController();
    busy(true);
    status.textContent = "Answering…";
    fetch(root.getAttribute("data-endpoint"), {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ region: region(), messages: history.slice(-20) }),
      signal: controller.signal
    }).then(function (res) {
      if (!res.ok || !res.body) {
        return res.json().catch(function () { return {}; }).then(function (j) {
          throw new Error(j.error || "The assistant is unavailable (" + res.status + ").");
        });
      }
      var reader = res.body.getReader();
      var decoder = new TextDecoder();
      var buf = "";
      function pump() {
        return reader.read().then(function (r) {
          if (r.done) return;
          buf += decoder.decode(r.value, { stream: true });
          var parts = buf.split("\n\n");
          buf = parts.pop();
          parts.forEach(function (block) {
            var ev = "message", data = "";
            block.split("\n").forEach(function (line) {
              if (line.indexOf("event: ") === 0) ev = line.slice(7);
              else if (line.indexOf("data: ") === 0) data += line.slice(6);
            });
            var d = data ? JSON.parse(data) : {};
            if (ev === "token") { got += d.t; reply.text(got.trim()); }
            else if (ev === "meta") { reply.note(d.notice); }
            else if (ev === "replace") { got = d.t; reply.text(got); reply.note(d.notice); }
            else if (ev === "links") { reply.links(d.links); }
            else if (ev === "error") { failed = true; status.textContent = d.message; }
          });
          return pump();
        });
      }
      return pump();
    }).then(function () {
      if (failed) throw new Error(status.textContent);
      history.push({ role: "assistant", content: got.trim() });
      input.value = "";
      status.textContent = "Answer complete.";
    }).catch(function (err) {
      var stopped = err && err.name === "AbortError";
      history.pop(); // the unanswered question is sent again on retry
      status.textContent = stopped ? "Stopped." : (err.message || "Something went wrong.");
      input.value = text; // keep what the visitor typed
      retryBtn.hidden = false;
    }).then(function () {
      controller = null;
      busy(false);
      if (!panel.hidden && !panel.contains(document.activeElement)) input.focus();
    });
  }

  openBtn.addEventListener("click", function () {
    if (panel && !panel.hidden) hide(); else show();
  });
})();

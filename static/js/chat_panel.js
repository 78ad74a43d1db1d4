// The agents' chat panel: the queue refetches itself when the queue socket says a chat changed (app.js's timer
// refresh is the fallback while the socket is down); the open chat talks over the agent's chat socket: messages,
// the user's typing and read state, and the agent's own. Without a socket the composer posts a ticket reply.
(function () {
  "use strict";

  var panel = document.querySelector("[data-chat-panel]");
  if (!panel) return;
  var base = panel.getAttribute("data-socket-base") ||
    (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host;
  var TYPING_SHOWN_MS = 4000;
  var TYPING_EVERY_MS = 2500;
  var RETRY_MAX_MS = 15000;

  // A socket that comes back after a dropped network, waiting a little longer after each failure.
  function keepOpen(path, handlers) {
    var delay = 1000;
    var socket = null;
    function open() {
      socket = new WebSocket(base + path);
      socket.addEventListener("open", function () { delay = 1000; handlers.open(socket); });
      socket.addEventListener("message", function (event) {
        var data;
        try { data = JSON.parse(event.data); } catch (error) { return; }
        handlers.message(data, socket);
      });
      socket.addEventListener("close", function (event) {
        handlers.close(event);
        // 44xx: refused (signed out, no longer allowed, no such chat): trying again would not help.
        if (event.code >= 4400 && event.code < 4500) return;
        window.setTimeout(open, delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      });
    }
    open();
    return { send: function (data) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(data));
      return true;
    } };
  }

  // --- Waiting times: grow in place, amber then red --------------------------------------------------------------
  function since(ms) {
    var minutes = Math.floor(ms / 60000);
    if (minutes < 1) return "just now";
    if (minutes < 60) return minutes + " min";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }
  function updateWaits() {
    var now = Date.now();
    panel.querySelectorAll("[data-since]").forEach(function (el) {
      var waited = now - Date.parse(el.getAttribute("data-since"));
      if (isNaN(waited)) return;
      el.textContent = since(waited);
      var warn = parseInt(el.getAttribute("data-warn"), 10) * 1000;
      var late = parseInt(el.getAttribute("data-late"), 10) * 1000;
      el.classList.toggle("is-late", waited >= late);
      el.classList.toggle("is-long", waited >= warn && waited < late);
    });
  }
  updateWaits();
  window.setInterval(updateWaits, 15000);

  // --- The queue ----------------------------------------------------------------------------------------------------
  var queue = document.getElementById("chat-queue");
  var queueState = panel.querySelector("[data-queue-state]");
  var refetching = false;
  function refetchQueue() {
    if (refetching) return;
    refetching = true;
    fetch(queue.getAttribute("data-refresh-url"), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok && !response.redirected ? response.text() : null; })
      .then(function (html) {
        if (html) {
          // The agent's place in the list (j / k) survives the swap.
          var chosen = queue.querySelector("tr.is-current");
          var chosenId = chosen ? chosen.getAttribute("data-chat") : null;
          queue.innerHTML = html;
          if (chosenId) {
            var again = queue.querySelector("tr[data-chat='" + chosenId + "']");
            if (again) again.classList.add("is-current");
          }
          updateWaits();
        }
      })
      .catch(function () {})
      .then(function () { refetching = false; });
  }
  keepOpen("/ws/support/agent/chats/", {
    open: function () {
      queueState.textContent = "Live";
      queueState.classList.add("is-live");
      refetchQueue();
    },
    message: function (data) { if (data.type === "queue") refetchQueue(); },
    close: function () {
      queueState.textContent = "Reconnecting… (updates every " + queue.getAttribute("data-refresh-seconds") + " s)";
      queueState.classList.remove("is-live");
    },
  });

  // --- The open chat ------------------------------------------------------------------------------------------------
  var chat = panel.querySelector("[data-open-chat]");
  if (!chat) return;
  var transcript = chat.querySelector("[data-transcript]");
  var typing = chat.querySelector("[data-typing]");
  var seen = chat.querySelector("[data-seen]");
  var state = chat.querySelector("[data-chat-state]");
  var form = chat.querySelector("[data-composer]");
  var body = chat.querySelector("[data-chat-body]");
  var errorBox = chat.querySelector("[data-chat-error]");
  var firstAnswer = chat.querySelector("[data-first-answer]");
  var typingTimer = null;
  var lastTyping = 0;
  var connected = false;

  function scrollDown() { transcript.scrollTop = transcript.scrollHeight; }
  scrollDown();

  function time(iso) {
    var at = new Date(iso);
    return (at.getHours() < 10 ? "0" : "") + at.getHours() + ":" + (at.getMinutes() < 10 ? "0" : "") + at.getMinutes();
  }
  function addMessage(event) {
    if (transcript.querySelector("[data-message='" + event.id + "']")) return;
    var item = document.createElement("li");
    item.className = "bubble " + (event.kind === "requester" ? "bubble-user" : event.kind === "note" ? "bubble-note" : "bubble-reply");
    item.setAttribute("data-message", event.id);
    item.setAttribute("data-kind", event.kind);
    var head = document.createElement("div");
    head.className = "bubble-head";
    var who = document.createElement("strong");
    who.textContent = event.author || "SayPro";
    var when = document.createElement("span");
    when.className = "when";
    when.textContent = time(event.created_at);
    head.appendChild(who);
    head.appendChild(when);
    var text = document.createElement("div");
    text.className = "bubble-body";
    text.textContent = event.body;
    item.appendChild(head);
    item.appendChild(text);
    transcript.appendChild(item);
    scrollDown();
  }
  function notice(text) {
    var item = document.createElement("li");
    item.className = "thread-event";
    item.textContent = text;
    transcript.appendChild(item);
    scrollDown();
  }
  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }
  function endChat(text) {
    notice(text);
    form.querySelectorAll("textarea, input, button").forEach(function (el) { el.disabled = true; });
  }

  var socket = keepOpen("/ws/support/agent/chats/" + chat.getAttribute("data-open-chat") + "/", {
    open: function (ws) {
      connected = true;
      state.textContent = "Connected: messages arrive as they are written.";
      state.classList.add("is-live");
      if (!document.hidden) ws.send(JSON.stringify({ type: "read" }));
    },
    message: function (data, ws) {
      if (data.type === "message") {
        addMessage(data);
        if (data.kind === "requester") {
          typing.hidden = true;
          if (!document.hidden) ws.send(JSON.stringify({ type: "read" }));
        } else {
          // A new answer has not been read yet; the first one stopped the first-answer clock.
          seen.hidden = true;
          if (data.kind === "reply" && firstAnswer) firstAnswer.innerHTML = '<span class="done">answered</span>';
        }
      } else if (data.type === "typing" && data.side === "user") {
        typing.hidden = false;
        window.clearTimeout(typingTimer);
        typingTimer = window.setTimeout(function () { typing.hidden = true; }, TYPING_SHOWN_MS);
      } else if (data.type === "read" && data.side === "user") {
        seen.hidden = !transcript.querySelector("[data-kind='reply']");
      } else if (data.type === "error") {
        showError(data.detail);
      } else if (data.type === "transferred") {
        notice("The chat was transferred to " + data.to + ".");
      } else if (data.type === "ended") {
        endChat("The chat ended: it goes on by e-mail as ticket #" + data.ticket + ".");
      }
    },
    close: function (event) {
      connected = false;
      state.classList.remove("is-live");
      state.textContent = event.code >= 4400 && event.code < 4500
        ? "This chat is closed to you (reload the page)."
        : "Reconnecting… Messages you send now are posted as ticket replies.";
    },
  });

  // The user sees this agent reading: when the tab comes back into view.
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) socket.send({ type: "read" });
  });

  function send() {
    var text = body.value.trim();
    if (!text) return;
    if (socket.send({ type: "message", body: text })) {
      body.value = "";
      showError("");
    } else {
      form.submit();
    }
  }
  form.addEventListener("submit", function (event) {
    if (!connected) return; // The plain post: a ticket reply.
    event.preventDefault();
    send();
  });
  body.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (connected) send(); else if (body.value.trim()) form.submit();
    }
  });
  body.addEventListener("input", function () {
    var now = Date.now();
    if (body.value.trim() && now - lastTyping > TYPING_EVERY_MS) {
      lastTyping = now;
      socket.send({ type: "typing" });
    }
  });

  // --- Canned replies: filter by typing, pick with the mouse or the arrow keys ----------------------------------
  var filter = chat.querySelector("[data-canned-filter]");
  var list = chat.querySelector("[data-canned-list]");
  var none = chat.querySelector("[data-canned-none]");
  function items() {
    return Array.prototype.slice.call(list.querySelectorAll("[data-canned]"))
      .filter(function (button) { return !button.parentElement.hidden; });
  }
  function applyFilter() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    list.querySelectorAll("[data-canned]").forEach(function (button) {
      var haystack = button.getAttribute("data-name") + " " + button.getAttribute("data-text").toLowerCase();
      var match = words.every(function (word) { return haystack.indexOf(word) >= 0; });
      button.parentElement.hidden = !match;
      if (match) shown += 1;
    });
    none.hidden = shown > 0;
    list.hidden = false;
  }
  function insert(text) {
    var start = body.selectionStart, end = body.selectionEnd;
    var value = body.value;
    if (!body.hasAttribute("data-caret") || !value.trim()) {
      body.value = value.trim() ? value.replace(/\s*$/, " ") + text : text;
    } else {
      body.value = value.slice(0, start) + text + value.slice(end);
    }
    filter.value = "";
    list.hidden = true;
    body.focus();
    body.setSelectionRange(body.value.length, body.value.length);
  }
  filter.addEventListener("input", applyFilter);
  filter.addEventListener("focus", applyFilter);
  filter.addEventListener("keydown", function (event) {
    var shown = items();
    if (event.key === "ArrowDown" && shown.length) { shown[0].focus(); event.preventDefault(); }
    else if (event.key === "Enter") { if (shown.length) insert(shown[0].getAttribute("data-text")); event.preventDefault(); }
    else if (event.key === "Escape") { list.hidden = true; }
  });
  list.addEventListener("keydown", function (event) {
    var shown = items();
    var index = shown.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && index < shown.length - 1) { shown[index + 1].focus(); event.preventDefault(); }
    else if (event.key === "ArrowUp") { (index > 0 ? shown[index - 1] : filter).focus(); event.preventDefault(); }
    else if (event.key === "Escape") { list.hidden = true; filter.focus(); }
  });
  list.addEventListener("click", function (event) {
    var button = event.target.closest("[data-canned]");
    if (button) insert(button.getAttribute("data-text"));
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest(".chat-canned")) list.hidden = true;
  });
})();

/*
 * Live updates for the ticker page (and the embeddable widget).
 *
 * The page is complete without this script: the server renders every entry.
 * Here we only keep it current. Every change arrives as the same HTML partial
 * the server used for the page, keyed by entry id, so this file never builds
 * entry markup itself; it swaps nodes in and out and keeps them in order.
 * Changes are numbered (seq); we remember the last one applied and ask for
 * "everything after it" whenever we reconnect, over WebSocket or by polling.
 */
(function () {
  "use strict";

  var root = document.querySelector("main[data-ticker]");
  if (!root) return;

  var $ = function (selector) { return root.querySelector(selector); };
  var data = root.dataset;
  var slug = data.ticker;
  var lastSeq = parseInt(data.seq, 10) || 0;
  var maxEntries = parseInt(data.maxEntries, 10) || 0;
  var keyOnly = data.keyOnly === "true";
  var embed = data.embed === "true";

  var list = $("[data-entries]");
  var pinnedBox = $("[data-pinned]");
  var keyList = $("[data-key-events]");
  var keySection = $("[data-key-events-section]");
  var emptyNote = $("[data-empty]");
  var newButton = $("[data-new-updates]");
  var toggle = $("[data-live-toggle]");
  var stateEl = $("[data-live-state]");

  var CLOSE_BAD_REQUEST = 4400;
  var CLOSE_NOT_FOUND = 4404;
  var PING_MS = 25000;
  var POLL_MS = 10000;
  var WS_RETRY_WHILE_POLLING_MS = 60000;

  var paused = false;
  var queue = [];          // frames received while paused, applied on resume
  var held = new Map();    // entry id -> newest frame of an entry held back while scrolled down
  var mode = "connecting"; // live | offline | polling
  var socket = null;
  var failures = 0;        // socket attempts in a row that never opened
  var attempt = 0;         // for the backoff of the next reconnect
  var reconnectTimer = 0;
  var pollTimer = 0;
  var pingTimer = 0;
  var stopped = false;     // the server said this will never work (4404, 4400)

  // ---- Reading the DOM ----------------------------------------------------

  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function findEntry(id) {
    return root.querySelector('[data-entries] > [data-entry-id="' + id + '"],' +
                              '[data-pinned] > [data-entry-id="' + id + '"]');
  }

  // Direct children only: an entry could quote markup, never nest another entry.
  function entriesIn(box) {
    return Array.prototype.filter.call(box.children, function (el) {
      return el.hasAttribute("data-entry-id");
    });
  }

  // Newest first: by the time shown, then by id, as the server orders them.
  function isNewer(a, b) {
    return a.time > b.time || (a.time === b.time && a.id > b.id);
  }

  function entryKey(el) {
    return { time: Number(el.dataset.displayAt), id: Number(el.dataset.entryId) };
  }

  function keyLineKey(el) {
    var time = el.querySelector("time");
    return { time: time ? Date.parse(time.dateTime) / 1000 : 0, id: Number(el.dataset.keyEntryId) };
  }

  function hasOlderPages() {
    return Boolean($("[data-load-older]"));
  }

  // The reader is reading further down: inserting above them would move the text.
  function isScrolledDown() {
    return list.getBoundingClientRect().top < -8; // a few pixels are rounding, not reading
  }

  // ---- Changing the DOM ---------------------------------------------------

  function insertSorted(box, node, keyOf, mayAppend) {
    var key = keyOf(node);
    var children = box.children;
    for (var i = 0; i < children.length; i++) {
      if (children[i] !== node && isNewer(key, keyOf(children[i]))) {
        box.insertBefore(node, children[i]);
        return;
      }
    }
    if (mayAppend) box.appendChild(node);
    else node.remove();
  }

  function setKeyLine(id, html) {
    if (!keyList) return;
    var old = keyList.querySelector('[data-key-entry-id="' + id + '"]');
    if (old) old.remove();
    if (html) insertSorted(keyList, parse(html), keyLineKey, true);
    if (keySection) keySection.hidden = keyList.children.length === 0;
  }

  function removeEntry(id) {
    var el = findEntry(id);
    if (el) el.remove();
    held.delete(id);
    setKeyLine(id, "");
  }

  function placeEntry(frame, existing) {
    var node = parse(frame.html);
    var wasListed = Boolean(existing && existing.parentNode === list);
    if (existing) existing.replaceWith(node);
    if (frame.pinned) {
      // Only one entry is pinned; a stale one goes back to its place in the list.
      entriesIn(pinnedBox).forEach(function (other) {
        if (other !== node) insertSorted(list, other, entryKey, !hasOlderPages());
      });
      pinnedBox.appendChild(node);
    } else {
      // An entry older than everything loaded belongs to a page not loaded yet.
      insertSorted(list, node, entryKey, wasListed || !hasOlderPages());
    }
    setKeyLine(frame.entry_id, frame.key_html);
    trimList();
  }

  // Embeds may show only the newest N entries.
  function trimList() {
    if (!maxEntries) return;
    var entries = entriesIn(list);
    for (var i = entries.length - 1; i >= maxEntries; i--) entries[i].remove();
  }

  function upsertEntry(frame) {
    var id = frame.entry_id;
    var existing = findEntry(id);
    if (!existing && (held.has(id) || isScrolledDown())) {
      held.set(id, frame);
      updateNewButton();
      return;
    }
    placeEntry(frame, existing);
  }

  function apply(frame) {
    switch (frame.type) {
      case "reload":
        location.reload();
        return;
      case "ticker.status":
        document.querySelectorAll("[data-ticker-status]").forEach(function (el) {
          el.innerHTML = frame.html;
        });
        break;
      case "entry.unpublished":
      case "entry.deleted":
        removeEntry(frame.entry_id);
        updateNewButton();
        break;
      case "entry.published":
      case "entry.updated":
      case "entry.pinned":
      case "entry.unpinned":
        if (keyOnly && !frame.key_event) removeEntry(frame.entry_id);
        else upsertEntry(frame);
        break;
      default:
        return; // a type from a newer server: nothing we know how to show
    }
    changed();
  }

  function changed() {
    if (emptyNote) emptyNote.hidden = entriesIn(list).length > 0;
    postHeight();
  }

  // ---- Frames in ----------------------------------------------------------

  function receive(frame) {
    if (!frame || typeof frame.seq !== "number") {
      if (frame && frame.type === "error" && window.console) console.warn("ticker:", frame.error);
      return; // pong and other control frames carry no change
    }
    // A reload is honoured even if its number is lower: the ticker was reset.
    if (frame.type !== "reload") {
      if (frame.seq <= lastSeq) return;
      lastSeq = frame.seq;
    }
    if (paused) {
      queue.push(frame);
      return;
    }
    apply(frame);
  }

  // ---- "N new updates" ----------------------------------------------------

  function updateNewButton() {
    if (!newButton) return;
    var count = held.size;
    newButton.hidden = count === 0;
    var text = count === 1 ? newButton.dataset.textOne : newButton.dataset.textMany;
    newButton.textContent = (text || "NUM").replace("NUM", String(count));
    postHeight();
  }

  function releaseHeld() {
    var frames = Array.from(held.values());
    held.clear();
    frames.forEach(function (frame) { placeEntry(frame, findEntry(frame.entry_id)); });
    updateNewButton();
    changed();
    return frames;
  }

  if (newButton) {
    newButton.addEventListener("click", function () {
      var frames = releaseHeld();
      list.scrollIntoView({ block: "start" });
      // The button is gone now; give keyboard users the newest entry instead.
      var first = frames.length && findEntry(frames[frames.length - 1].entry_id);
      if (first) {
        first.tabIndex = -1;
        first.focus({ preventScroll: true });
      }
    });
  }

  // ---- Pause --------------------------------------------------------------

  function setState() {
    if (!stateEl) return;
    var key = paused ? "paused" : mode;
    var text = stateEl.dataset["text" + key.charAt(0).toUpperCase() + key.slice(1)] || "";
    // Only write on change: role=status announces every write.
    if (stateEl.textContent !== text) stateEl.textContent = text;
  }

  function setPaused(value) {
    paused = value;
    toggle.setAttribute("aria-pressed", String(paused));
    toggle.textContent = paused ? toggle.dataset.labelResume : toggle.dataset.labelPause;
    setState();
    if (!paused) {
      var frames = queue;
      queue = [];
      frames.forEach(apply);
    }
  }

  // ---- Connection: WebSocket first, polling as the fallback ----------------

  function setMode(value) {
    mode = value;
    setState();
  }

  function connect() {
    clearTimeout(reconnectTimer);
    if (stopped || socket) return;
    if (!window.WebSocket) {
      startPolling();
      return;
    }
    var scheme = location.protocol === "https:" ? "wss" : "ws";
    var ws = new WebSocket(scheme + "://" + location.host + data.wsPath + "?since=" + lastSeq);
    var openedAt = 0;
    var heardAt = 0;
    socket = ws;
    ws.onopen = function () {
      openedAt = heardAt = Date.now();
      failures = 0;
      stopPolling();
      setMode("live");
      pingTimer = setInterval(function () {
        // No answer to two pings: the connection died without telling us.
        if (Date.now() - heardAt > 2.5 * PING_MS) {
          drop(ws, 1006, openedAt);
          ws.close();
          return;
        }
        // Proxies drop sockets that stay silent for a minute or so.
        ws.send('{"type":"ping"}');
      }, PING_MS);
    };
    ws.onmessage = function (event) {
      heardAt = Date.now();
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      receive(frame);
    };
    ws.onclose = function (event) { drop(ws, event.code, openedAt); };
  }

  function drop(ws, code, openedAt) {
    if (socket !== ws) return; // already handled
    ws.onclose = ws.onmessage = null;
    socket = null;
    clearInterval(pingTimer);
    if (code === CLOSE_NOT_FOUND || code === CLOSE_BAD_REQUEST) {
      stopped = true;
      stopPolling();
      setMode("offline");
      return;
    }
    if (!openedAt) failures += 1;
    // Only a connection that lasted resets the backoff: a server that accepts and
    // closes at once (overloaded, 1013) must not be hammered.
    if (openedAt && Date.now() - openedAt > 10000) attempt = 0;
    if (failures >= 3) {
      // The socket never gets through (a proxy, a firewall): poll, and retry rarely.
      startPolling();
      reconnectTimer = setTimeout(connect, WS_RETRY_WHILE_POLLING_MS * (0.5 + Math.random()));
      return;
    }
    if (mode !== "polling") setMode("offline");
    // Exponential backoff with full jitter, so a restarted server is not hit by everyone at once.
    var delay = Math.random() * Math.min(30000, 1000 * Math.pow(2, attempt));
    attempt += 1;
    reconnectTimer = setTimeout(connect, Math.max(250, delay));
  }

  function startPolling() {
    if (stopped) return;
    setMode("polling");
    if (!pollTimer) pollTimer = setTimeout(poll, 0);
  }

  function stopPolling() {
    clearTimeout(pollTimer);
    pollTimer = 0;
  }

  function poll() {
    fetch(data.changesUrl + "?since=" + lastSeq, { cache: "no-store" })
      .then(function (response) {
        if (response.status === 404) stopped = true;
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (doc) {
        if (doc.reload) receive({ seq: doc.last_seq, type: "reload" });
        else doc.changes.forEach(receive);
      })
      .catch(function () { /* try again next time */ })
      .then(function () {
        if (pollTimer && !stopped) pollTimer = setTimeout(poll, POLL_MS);
      });
  }

  // Coming back online: try at once instead of waiting out the backoff.
  window.addEventListener("online", function () {
    attempt = 0;
    connect();
  });

  // ---- Load older entries -------------------------------------------------

  root.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-load-older]");
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    link.setAttribute("aria-busy", "true");
    fetch(link.href + "&fragment=older")
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var template = document.createElement("template");
        template.innerHTML = html;
        var first = null;
        entriesIn(template.content).forEach(function (entry) {
          if (findEntry(entry.dataset.entryId)) return; // arrived live meanwhile
          list.appendChild(entry);
          first = first || entry;
        });
        var next = template.content.querySelector("[data-load-older]");
        if (next) link.replaceWith(next);
        else link.remove();
        if (first) {
          first.tabIndex = -1;
          first.focus();
        }
        changed();
      })
      .catch(function () { location.href = link.href; });
  });

  // ---- Embed: tell the host page how tall we are ---------------------------

  var heightFrame = 0;
  function postHeight() {
    if (!embed || window.parent === window || heightFrame) return;
    // Coalesce the many changes of one burst into one message.
    heightFrame = requestAnimationFrame(function () {
      heightFrame = 0;
      var message = {
        type: "liveticker:height",
        ticker: slug,
        height: document.documentElement.scrollHeight,
      };
      window.parent.postMessage(message, data.parentOrigin || "*");
    });
  }

  if (embed) {
    window.addEventListener("load", postHeight);
    window.addEventListener("resize", postHeight);
    document.addEventListener("load", postHeight, true); // images finishing
    postHeight();
  }

  // ---- Start ----------------------------------------------------------------

  if (keyOnly) {
    entriesIn(list).forEach(function (el) {
      if (!el.classList.contains("entry--key")) el.remove();
    });
  }
  trimList();
  if (data.live === "false") return; // an older page: a snapshot, not live

  if (toggle) {
    $("[data-live-controls]").hidden = false;
    toggle.addEventListener("click", function () { setPaused(!paused); });
  }
  // Scrolling back up to the top shows what was held back.
  window.addEventListener("scroll", function () {
    if (held.size && !isScrolledDown()) releaseHeld();
  }, { passive: true });
  connect();
})();

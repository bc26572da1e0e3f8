/*
 * Live updates for the ticker page (and the embeddable widget).
 *
 * The page is complete without this script: the server renders every entry.
 * Here we only keep it current. Every change arrives as the same HTML partial
 * the server used for the page, keyed by entry id, so this file never builds
 * entry markup itself; it swaps nodes in and out and keeps them in order.
 * Changes are numbered (seq); we remember the last one received and ask for
 * "everything after it" whenever we reconnect, over WebSocket or by polling.
 */
(() => {
  "use strict";

  const root = document.querySelector("main[data-ticker]");
  if (!root) return;

  const $ = (selector) => root.querySelector(selector);
  const data = root.dataset;
  const maxEntries = parseInt(data.maxEntries, 10) || 0;
  const keyOnly = data.keyOnly === "true";
  const embed = data.embed === "true";

  const list = $("[data-entries]");
  const pinnedBox = $("[data-pinned]");
  const keyList = $("[data-key-events]");
  const keySection = $("[data-key-events-section]");
  const emptyNote = $("[data-empty]");
  const newButton = $("[data-new-updates]");
  const toggle = $("[data-live-toggle]");
  const stateEl = $("[data-live-state]");

  const FINAL_CLOSE_CODES = [4400, 4404]; // bad "since", unknown ticker: retrying cannot help
  const PING_MS = 25000;
  const POLL_MS = (parseFloat(data.pollSeconds) || 10) * 1000; // TICKER_POLL_SECONDS
  const SOCKET_RETRY_WHILE_POLLING_MS = 60000;

  let lastSeq = parseInt(data.seq, 10) || 0;
  let paused = false;
  let queue = [];          // frames received while paused, applied on resume
  const held = new Map();  // entry id -> latest frame of a new entry held back while scrolled down
  let mode = "";           // live | offline | polling
  let socket = null;
  let failures = 0;        // socket attempts in a row that never opened
  let attempt = 0;         // grows the backoff of the next reconnect
  let stopped = false;     // the server said retrying cannot help (4404, 4400)
  let reconnectTimer = 0;
  let pollTimer = 0;
  let pingTimer = 0;

  // ---- Reading the DOM ----------------------------------------------------

  function parse(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  // Direct children only: an entry's own markup never counts as another entry.
  const entriesIn = (box) => Array.from(box.children).filter((el) => el.hasAttribute("data-entry-id"));
  const findEntry = (id) =>
    entriesIn(list).concat(entriesIn(pinnedBox)).find((el) => el.dataset.entryId === String(id));

  // Newest first: by the time shown, then by id, as the server orders them.
  const isNewer = (a, b) => a.time > b.time || (a.time === b.time && a.id > b.id);
  const entryKey = (el) => ({ time: Number(el.dataset.displayAt), id: Number(el.dataset.entryId) });
  const keyLineKey = (el) => {
    const time = el.querySelector("time");
    return { time: time ? Date.parse(time.dateTime) / 1000 : 0, id: Number(el.dataset.keyEntryId) };
  };

  // More entries exist below the ones loaded ("Load older entries" is there).
  const hasOlderPages = () => Boolean($("[data-load-older]"));

  // The reader is further down: inserting above would move the text they read.
  // A few pixels are rounding, not reading.
  const isScrolledDown = () => list.getBoundingClientRect().top < -8;

  // ---- Changing the DOM ---------------------------------------------------

  // Put ``node`` before the first child it is newer than; at the end only if allowed.
  function insertSorted(box, node, keyOf, mayAppend) {
    const key = keyOf(node);
    const next = Array.from(box.children).find((el) => el !== node && isNewer(key, keyOf(el)));
    if (next) box.insertBefore(node, next);
    else if (mayAppend) box.appendChild(node);
    else node.remove();
  }

  function setKeyLine(id, html) {
    if (!keyList) return;
    const old = keyList.querySelector(`[data-key-entry-id="${id}"]`);
    if (old) old.remove();
    if (html) insertSorted(keyList, parse(html), keyLineKey, true);
    if (keySection) keySection.hidden = keyList.children.length === 0;
  }

  function removeEntry(id) {
    const el = findEntry(id);
    if (el) el.remove();
    held.delete(id);
    setKeyLine(id, "");
    updateNewButton();
  }

  function placeEntry(frame) {
    const existing = findEntry(frame.entry_id);
    const wasListed = Boolean(existing && existing.parentNode === list);
    const node = parse(frame.html);
    if (existing) existing.replaceWith(node);
    if (frame.pinned) {
      // Only one entry is pinned; one still there goes back to its place in the list.
      entriesIn(pinnedBox).forEach((other) => {
        if (other !== node) insertSorted(list, other, entryKey, !hasOlderPages());
      });
      pinnedBox.appendChild(node);
    } else {
      // An entry older than all loaded ones belongs to a page not loaded yet.
      insertSorted(list, node, entryKey, wasListed || !hasOlderPages());
    }
    setKeyLine(frame.entry_id, frame.key_html);
    trimList();
  }

  // The widget may show only the newest N entries.
  function trimList() {
    if (maxEntries) entriesIn(list).slice(maxEntries).forEach((el) => el.remove());
  }

  function upsertEntry(frame) {
    const id = frame.entry_id;
    if (!findEntry(id) && (held.has(id) || isScrolledDown())) {
      held.set(id, frame);
      updateNewButton();
    } else {
      placeEntry(frame);
    }
  }

  function apply(frame) {
    switch (frame.type) {
      case "reload":
        location.reload();
        return;
      case "ticker.status":
        document.querySelectorAll("[data-ticker-status]").forEach((el) => {
          el.innerHTML = frame.html;
        });
        data.status = frame.status;
        setState();
        break;
      case "entry.unpublished":
      case "entry.deleted":
        removeEntry(frame.entry_id);
        break;
      case "entry.published":
      case "entry.updated":
      case "entry.pinned":
      case "entry.unpinned":
        if (keyOnly && !frame.key_event) removeEntry(frame.entry_id);
        else upsertEntry(frame);
        break;
      default:
        return; // a newer server's type: nothing we know how to show
    }
    changed();
  }

  function changed() {
    if (emptyNote) emptyNote.hidden = entriesIn(list).length > 0;
    postHeight();
  }

  function receive(frame) {
    if (!frame || typeof frame.seq !== "number") {
      if (frame && frame.type === "error") console.warn("Live ticker:", frame.error);
      return; // pong and other control frames carry no change
    }
    // A reload is honoured even with a lower number: the ticker was reset.
    if (frame.type !== "reload") {
      if (frame.seq <= lastSeq) return; // seen already (catch-up overlapping live)
      lastSeq = frame.seq;
    }
    if (paused) queue.push(frame);
    else apply(frame);
  }

  // ---- "N new updates" ----------------------------------------------------

  function updateNewButton() {
    if (!newButton) return;
    const count = held.size;
    const text = count === 1 ? newButton.dataset.textOne : newButton.dataset.textMany;
    newButton.textContent = (text || "NUM").replace("NUM", String(count));
    newButton.hidden = count === 0;
    postHeight();
  }

  function releaseHeld() {
    const frames = Array.from(held.values());
    held.clear();
    frames.forEach(placeEntry);
    updateNewButton();
    changed();
  }

  if (newButton) {
    newButton.addEventListener("click", () => {
      releaseHeld();
      list.scrollIntoView({ block: "start" });
      // The button is gone now: keyboard focus moves to the newest entry instead.
      const newest = entriesIn(list)[0];
      if (newest) {
        newest.tabIndex = -1;
        newest.focus({ preventScroll: true });
      }
    });
  }

  // ---- Pause and the status line --------------------------------------------

  function setState(newMode) {
    mode = newMode || mode;
    if (!stateEl) return;
    // An ended ticker keeps its socket (corrections still arrive) but says so.
    const ended = data.status === "ended";
    if (toggle) toggle.hidden = ended;
    const key = ended ? "ended" : paused ? "paused" : mode;
    const text = (key && stateEl.dataset["text" + key[0].toUpperCase() + key.slice(1)]) || "";
    // Only write on change: a role=status element announces every write.
    if (stateEl.textContent !== text) stateEl.textContent = text;
  }

  function setPaused(value) {
    paused = value;
    toggle.setAttribute("aria-pressed", String(paused));
    toggle.textContent = paused ? toggle.dataset.labelResume : toggle.dataset.labelPause;
    setState();
    if (!paused) {
      const frames = queue;
      queue = [];
      frames.forEach(apply);
    }
  }

  // ---- Connection: WebSocket first, polling as the fallback ----------------

  function connect() {
    clearTimeout(reconnectTimer);
    if (stopped || socket) return;
    if (!window.WebSocket) {
      startPolling();
      return;
    }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}${data.wsPath}?since=${lastSeq}`);
    let openedAt = 0;
    let heardAt = 0;
    socket = ws;
    ws.onopen = () => {
      openedAt = heardAt = Date.now();
      failures = 0;
      stopPolling();
      setState("live");
      pingTimer = setInterval(() => {
        // Two pings unanswered: the connection died without telling us.
        if (Date.now() - heardAt > 2.5 * PING_MS) {
          closed(ws, 1006, openedAt);
          ws.close();
        } else {
          ws.send('{"type":"ping"}'); // proxies drop sockets that stay silent
        }
      }, PING_MS);
    };
    ws.onmessage = (event) => {
      heardAt = Date.now();
      let frame = null;
      try { frame = JSON.parse(event.data); } catch (error) { /* not JSON: ignored */ }
      receive(frame);
    };
    ws.onclose = (event) => closed(ws, event.code, openedAt);
  }

  function closed(ws, code, openedAt) {
    if (socket !== ws) return; // handled already
    socket = null;
    clearInterval(pingTimer);
    if (FINAL_CLOSE_CODES.includes(code)) {
      stopped = true;
      stopPolling();
      root.querySelectorAll("[data-live-controls]").forEach((el) => { el.hidden = true; });
      return;
    }
    if (!openedAt) failures += 1;
    // Only a connection that lasted resets the backoff: a server that accepts
    // and closes at once (overloaded, 1013) must not be hammered.
    if (openedAt && Date.now() - openedAt > 10000) attempt = 0;
    if (failures >= 3) {
      // Sockets never get through (a proxy, a firewall): poll, and try a socket rarely.
      startPolling();
      reconnectTimer = setTimeout(connect, SOCKET_RETRY_WHILE_POLLING_MS * (0.5 + Math.random()));
      return;
    }
    if (mode !== "polling") setState("offline");
    // Exponential backoff with full jitter: after a restart, readers return spread out.
    const delay = Math.random() * Math.min(30000, 1000 * 2 ** attempt);
    attempt += 1;
    reconnectTimer = setTimeout(connect, Math.max(250, delay));
  }

  function startPolling() {
    if (stopped) return;
    setState("polling");
    if (!pollTimer) pollTimer = setTimeout(poll, 0);
  }

  function stopPolling() {
    clearTimeout(pollTimer);
    pollTimer = 0;
  }

  function fetchOk(url) {
    return fetch(url, { cache: "no-store" }).then((response) => {
      if (response.status === 404) stopped = true; // the ticker is gone
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response;
    });
  }

  function poll() {
    fetchOk(`${data.changesUrl}?since=${lastSeq}`)
      .then((response) => response.json())
      .then((doc) => {
        if (doc.reload) receive({ seq: doc.last_seq, type: "reload" });
        else doc.changes.forEach(receive);
      })
      .catch(() => {}) // try again next time
      .then(() => {
        if (pollTimer && !stopped) pollTimer = setTimeout(poll, POLL_MS);
      });
  }

  // Back online: try at once instead of waiting out the backoff.
  window.addEventListener("online", () => {
    attempt = 0;
    connect();
  });

  // ---- Load older entries -------------------------------------------------

  root.addEventListener("click", (event) => {
    const link = event.target.closest("[data-load-older]");
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    link.setAttribute("aria-busy", "true");
    fetchOk(`${link.href}&fragment=older`)
      .then((response) => response.text())
      .then((html) => {
        const template = document.createElement("template");
        template.innerHTML = html;
        // Skip entries that arrived live meanwhile.
        const added = entriesIn(template.content).filter((el) => !findEntry(el.dataset.entryId));
        added.forEach((el) => list.appendChild(el));
        const next = template.content.querySelector("[data-load-older]");
        if (next) link.replaceWith(next);
        else link.remove();
        // Reading continues at the first older entry, for keyboards and screen readers too.
        if (added.length) {
          added[0].tabIndex = -1;
          added[0].focus();
        }
        changed();
      })
      .catch(() => {
        location.href = link.href; // the plain page still works
      });
  });

  // ---- Embed: tell the host page how tall we are ---------------------------

  let heightTimer = 0;
  function postHeight() {
    if (!embed || window.parent === window || heightTimer) return;
    // One message per burst of changes. A timer, not requestAnimationFrame:
    // browsers pause that in frames scrolled out of view, where sizes still matter.
    heightTimer = setTimeout(() => {
      heightTimer = 0;
      // The body's own height, not the document's: that never drops below the
      // iframe's current height, so the widget could grow but never shrink.
      const style = getComputedStyle(document.body);
      const height = Math.ceil(
        document.body.getBoundingClientRect().height +
          parseFloat(style.marginTop) + parseFloat(style.marginBottom)
      );
      window.parent.postMessage(
        { type: "liveticker:height", ticker: data.ticker, height: height },
        data.parentOrigin || "*"
      );
    }, 30);
  }

  if (embed) {
    window.addEventListener("load", postHeight);
    window.addEventListener("resize", postHeight);
    document.addEventListener("load", postHeight, true); // images finishing
    // Any other change of size (a status line wrapping, fonts loading) too.
    if (window.ResizeObserver) new ResizeObserver(postHeight).observe(document.body);
    postHeight();
  }

  // ---- Start ----------------------------------------------------------------

  if (keyOnly) entriesIn(list).forEach((el) => el.classList.contains("entry--key") || el.remove());
  trimList();
  if (data.live === "false") return; // an older page is a snapshot, not live

  if (toggle) {
    $("[data-live-controls]").hidden = false;
    toggle.addEventListener("click", () => setPaused(!paused));
    setState();
  }
  // Scrolling back up to the newest entries shows what was held back.
  window.addEventListener("scroll", () => {
    if (held.size && !isScrolledDown()) releaseHeld();
  }, { passive: true });
  connect();
})();

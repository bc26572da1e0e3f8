/*
 * Live updates for the ticker page (and the embeddable widget).
 *
 * The page is complete without this script: the server renders every entry.
 * Here we only keep it current. Every change arrives as the same HTML partial
 * the server used for the page, keyed by entry id, so this file never builds
 * entry markup itself; it swaps nodes in and out and keeps them in order.
 * Changes are numbered (seq); we remember the last one received and ask for
 * "everything after it" whenever we reconnect, over WebSocket or by polling.
 *
 * The connection is one small state machine:
 *
 *   connecting --open--> live --dropped--> backoff --timer--> connecting
 *                          |
 *                          +--server says "retry later"--> polling (the socket
 *                             is tried again with back-off meanwhile)
 *   connecting --never opened, three times--> polling (a socket now and then)
 *   any --server says "stop", or a reload would loop--> stopped
 *
 * What each close code of the server means comes from the page itself
 * (data-close-codes, built from ticker/protocol.py); any other code is a
 * dropped connection and means "retry".
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
  const controls = $("[data-live-controls]");
  const toggle = $("[data-live-toggle]");
  const stateEl = $("[data-live-state]");
  const upcomingNote = $("[data-live-upcoming]");

  // {"4404": {"action": "stop", "retry_ms": 0}, ...}: stop, reload or retry.
  const CLOSE_CODES = readJSON(data.closeCodes) || {};
  const PING_MS = 25000;
  const POLL_MS = (parseFloat(data.pollSeconds) || 10) * 1000; // TICKER_POLL_SECONDS
  // Full-jitter back-off: the n-th retry waits a random time up to BASE * 2^n,
  // never more than CAP (plus the server's hint), so after a restart readers
  // come back spread out, and all of them within about CAP of its return.
  const BACKOFF_BASE_MS = 1000;
  const BACKOFF_CAP_MS = 10000;
  const STABLE_MS = 5000;   // a socket open this long worked: the next drop starts the back-off afresh
  const FALLBACK_AFTER = 3; // sockets that never opened before we poll instead
  const PROBE_MS = 60000;   // a reader that polls for want of WebSockets tries one about this often
  const RELOAD_GUARD_MS = 60000; // at most one reload a minute, whatever the server says

  const SHOWN = new Set(["entry.published", "entry.updated", "entry.pinned", "entry.unpinned"]);
  const GONE = new Set(["entry.unpublished", "entry.deleted"]);

  let lastSeq = parseInt(data.seq, 10) || 0;
  let paused = false;
  // While paused: the latest frame per entry and of the status, or just one reload.
  const queue = new Map();
  const held = new Map();  // entry id -> latest frame of a new entry held back while scrolled down
  let loading = null;      // while older entries load: entry id -> latest change meanwhile

  let state = "connecting"; // connecting | live | backoff | polling | stopped
  let link = null;          // the current socket attempt: {ws, stable, hintMs, timers}
  let failures = 0;         // socket attempts in a row that did not work
  let everOpened = false;   // some socket opened on this page: WebSockets get through
  let retryTimer = 0;

  function readJSON(text) {
    try {
      return JSON.parse(text);
    } catch (error) {
      return null;
    }
  }

  // ---- Reading the DOM ----------------------------------------------------

  function parse(html) {
    const template = document.createElement("template");
    template.innerHTML = (html || "").trim();
    return template.content.firstElementChild;
  }

  // Direct children only: an entry's own markup never counts as another entry.
  const entriesIn = (box) => Array.from(box.children).filter((el) => el.hasAttribute("data-entry-id"));
  const findEntry = (id) =>
    entriesIn(list).concat(entriesIn(pinnedBox)).find((el) => el.dataset.entryId === String(id));

  // Newest first, exactly as the server orders them: by the time shown (to the
  // microsecond: data-display-at), then by id.
  const isNewer = (a, b) => a.time > b.time || (a.time === b.time && a.id > b.id);
  const entryKey = (el) => ({ time: Number(el.dataset.displayAt), id: Number(el.dataset.entryId) });
  const keyLineKey = (el) => ({ time: Number(el.dataset.displayAt), id: Number(el.dataset.keyEntryId) });

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
    held.delete(Number(id));
    setKeyLine(id, "");
    updateNewButton();
  }

  function placeEntry(frame, node) {
    const existing = findEntry(frame.entry_id);
    const wasListed = Boolean(existing && existing.parentNode === list);
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

  // Would an entry that is not on the page appear if placed now? Pinned ones
  // do; others only among the loaded (and, in the widget, the newest N) ones.
  function willShow(frame, node) {
    if (frame.pinned) return true;
    const key = entryKey(node);
    const shown = entriesIn(list);
    const index = shown.findIndex((el) => isNewer(key, entryKey(el)));
    if (index === -1) return !hasOlderPages() && !(maxEntries && shown.length >= maxEntries);
    return !maxEntries || index < maxEntries;
  }

  function upsertEntry(frame) {
    const id = Number(frame.entry_id);
    const node = parse(frame.html);
    if (!node) return;
    if (findEntry(id) || !willShow(frame, node)) {
      // In place, or not shown at all (only its key-events line may change):
      // nothing moves under the reader, and nothing is counted as new.
      held.delete(id);
      placeEntry(frame, node);
      updateNewButton();
    } else if (held.has(id) || isScrolledDown()) {
      held.set(id, frame);
      updateNewButton();
    } else {
      placeEntry(frame, node);
    }
  }

  // One entry's change; false if it is not about an entry we know how to show.
  function applyEntry(frame) {
    if (GONE.has(frame.type) || (keyOnly && SHOWN.has(frame.type) && !frame.key_event)) {
      removeEntry(frame.entry_id);
    } else if (SHOWN.has(frame.type)) {
      upsertEntry(frame);
    } else {
      return false;
    }
    return true;
  }

  function apply(frame) {
    if (frame.type === "reload") {
      reloadPage();
      return;
    }
    if (frame.type === "ticker.status") {
      document.querySelectorAll("[data-ticker-status]").forEach((el) => {
        el.innerHTML = frame.html;
      });
      data.status = frame.status;
      render();
    } else if (applyEntry(frame)) {
      // The older page being fetched was rendered before this: it must not bring it back stale.
      if (loading) loading.set(Number(frame.entry_id), frame);
    } else {
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
      if (frame.seq <= lastSeq) return; // seen already (catch-up overlapping live, or a poll)
      lastSeq = frame.seq;
    }
    if (paused) hold(frame);
    else apply(frame);
  }

  // Keep only what resuming needs: a reload makes everything else moot, and
  // an entry's (or the status's) latest frame says all its earlier ones did.
  function hold(frame) {
    if (queue.has("reload")) return;
    if (frame.type === "reload") queue.clear();
    const key = frame.type === "reload" || frame.type === "ticker.status"
      ? frame.type
      : `entry:${frame.entry_id}`;
    queue.delete(key); // re-inserted last: frames are applied in the order of their latest change
    queue.set(key, frame);
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
    frames.forEach((frame) => placeEntry(frame, parse(frame.html)));
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

  // ---- Pause, the status line and the controls ------------------------------

  const STATE_TEXT = { live: "live", backoff: "offline", polling: "polling", stopped: "stopped" };

  function render() {
    const upcoming = data.status === "upcoming";
    const stopped = state === "stopped";
    // Before coverage starts the page says when it does; the controls come with it.
    if (upcomingNote) upcomingNote.hidden = !upcoming;
    if (controls) controls.hidden = upcoming && !stopped;
    // An ended ticker keeps its socket (corrections still arrive) but says so.
    if (toggle) toggle.hidden = data.status === "ended" || stopped;
    if (!stateEl) return;
    let key = STATE_TEXT[state] || (everOpened ? "offline" : "");
    if (!stopped && data.status === "ended") key = "ended";
    else if (!stopped && paused) key = "paused";
    const text = (key && stateEl.dataset["text" + key[0].toUpperCase() + key.slice(1)]) || "";
    // Only write on change: a role=status element announces every write.
    if (stateEl.textContent !== text) stateEl.textContent = text;
  }

  function setPaused(value) {
    paused = value;
    if (toggle) {
      toggle.setAttribute("aria-pressed", String(paused));
      toggle.textContent = paused ? toggle.dataset.labelResume : toggle.dataset.labelPause;
    }
    render();
    if (!paused) {
      const frames = Array.from(queue.values());
      queue.clear();
      frames.forEach(apply);
    }
  }

  // ---- Connection: the state machine ----------------------------------------

  function enter(next) {
    state = next;
    if (next === "polling") startPolling();
    else if (next !== "connecting") stopPolling();
    if (next === "stopped") {
      halt();
      if (paused) {
        queue.delete("reload"); // it is what stopped us; show what else was held back
        setPaused(false);
      }
    }
    render();
  }

  function halt() {
    clearTimeout(retryTimer);
    stopPolling();
    const current = link;
    link = null;
    if (current) {
      clearTimers(current);
      current.ws.close();
    }
  }

  function clearTimers(current) {
    clearInterval(current.pingTimer);
    clearTimeout(current.stableTimer);
  }

  function retryIn(ms) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, ms);
  }

  function connect() {
    clearTimeout(retryTimer);
    if (state === "stopped" || link) return;
    if (!window.WebSocket) {
      enter("polling"); // and stay there: this browser has no WebSockets
      return;
    }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}${data.wsPath}?since=${lastSeq}`);
    const current = { ws, stable: false, hintMs: 0, heardAt: 0, pingTimer: 0, stableTimer: 0 };
    link = current;
    // A polling reader keeps polling until the socket really opens.
    if (state !== "polling") enter("connecting");

    ws.onopen = () => {
      if (link !== current) return;
      everOpened = true;
      current.heardAt = Date.now();
      // Only a socket that lasts resets the back-off: a server that accepts and
      // closes at once (its channel layer is down) must not be hammered.
      current.stableTimer = setTimeout(() => {
        current.stable = true;
        failures = 0;
      }, STABLE_MS);
      current.pingTimer = setInterval(() => {
        // Two pings unanswered: the connection died without telling us.
        if (Date.now() - current.heardAt > 2.5 * PING_MS) {
          closed(current, 1006);
          ws.close();
        } else {
          ws.send('{"type":"ping"}'); // proxies drop sockets that stay silent
        }
      }, PING_MS);
      enter("live");
    };
    ws.onmessage = (event) => {
      if (link !== current) return;
      current.heardAt = Date.now();
      const frame = readJSON(event.data);
      // The server explains before it closes: {"type": "error", "code": 4503, "retry_after": 2, ...}
      if (frame && frame.type === "error" && frame.code) {
        current.hintMs = Math.max(current.hintMs, (Number(frame.retry_after) || 0) * 1000);
      }
      receive(frame);
    };
    ws.onclose = (event) => closed(current, event.code);
  }

  function closed(current, code) {
    if (link !== current) return; // handled already
    link = null;
    clearTimers(current);
    const rule = CLOSE_CODES[String(code)];
    const action = rule ? rule.action : "retry";
    if (action === "stop") {
      enter("stopped");
      return;
    }
    if (action === "reload") {
      reloadPage();
      return;
    }
    if (!current.stable) failures += 1;
    if (!everOpened && failures >= FALLBACK_AFTER) {
      // Sockets never get through here (a proxy, a firewall): poll, and try one now and then.
      retryIn(PROBE_MS * (0.5 + Math.random()));
      enter("polling");
      return;
    }
    const hintMs = Math.max(rule ? Number(rule.retry_ms) || 0 : 0, current.hintMs);
    retryIn(hintMs + Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** failures));
    // The server itself asked us to wait (its channel layer or database is
    // down, or we sent too much): the changes endpoint, which needs only the
    // database, keeps the page current meanwhile. A server going away (4001)
    // or a dropped connection (a restart, the network) only backs off:
    // polling a server that is down would add load and nothing else.
    enter(rule && rule.poll ? "polling" : "backoff");
  }

  // The page is out of date as a whole (4400, or a "reload" frame). Reload,
  // but never in a loop: a second request within a minute stops instead.
  function reloadPage() {
    const key = `liveticker:reloaded:${data.ticker}`;
    try {
      const last = Number(sessionStorage.getItem(key)) || 0;
      if (Math.abs(Date.now() - last) >= RELOAD_GUARD_MS) {
        sessionStorage.setItem(key, String(Date.now()));
        halt();
        state = "stopped";
        location.reload();
        return;
      }
    } catch (error) {
      // No storage: a loop could not be told from a first time.
    }
    enter("stopped");
  }

  // ---- Polling: one loop at most, never two requests at once ----------------

  let pollWanted = false;
  let pollBusy = false;
  let pollTimer = 0;
  let lastPollAt = -Infinity;

  function startPolling() {
    if (pollWanted) return;
    pollWanted = true;
    schedulePoll(lastPollAt + POLL_MS - Date.now()); // at once, unless we just polled
  }

  function stopPolling() {
    pollWanted = false;
    clearTimeout(pollTimer);
    pollTimer = 0;
  }

  function schedulePoll(ms) {
    clearTimeout(pollTimer);
    // A request in flight schedules the next one itself when it ends.
    pollTimer = pollWanted && !pollBusy ? setTimeout(poll, Math.max(0, ms)) : 0;
  }

  function poll() {
    pollTimer = 0;
    if (!pollWanted || pollBusy) return;
    pollBusy = true;
    lastPollAt = Date.now();
    let waitMs = POLL_MS;
    fetch(`${data.changesUrl}?since=${lastSeq}`, { cache: "no-store" })
      .then((response) => {
        if (response.status === 404) enter("stopped"); // the ticker is gone
        else if (response.status === 400) reloadPage(); // our "since" makes no sense
        else if (response.ok) return response.json();
        else waitMs = Math.max(waitMs, (parseFloat(response.headers.get("Retry-After")) || 0) * 1000);
        return null;
      })
      .then((doc) => {
        if (!doc) return;
        if (doc.reload) receive({ seq: doc.last_seq, type: "reload" });
        else doc.changes.forEach(receive);
      })
      .catch(() => {}) // the network: try again next time
      .then(() => {
        pollBusy = false;
        schedulePoll(waitMs);
      });
  }

  // ---- Load older entries -------------------------------------------------

  root.addEventListener("click", (event) => {
    const more = event.target.closest("[data-load-older]");
    if (!more || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    if (loading) return; // one page at a time
    loading = new Map();
    more.setAttribute("aria-busy", "true");
    fetch(`${more.href}&fragment=older`, { cache: "no-store" })
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.text();
      })
      .then((html) => {
        const meanwhile = loading;
        loading = null;
        const template = document.createElement("template");
        template.innerHTML = html;
        // Skip entries on the page already, held back, or changed since the
        // fragment was rendered: for those, the live change is the newer word.
        const added = entriesIn(template.content).filter((el) => {
          const id = Number(el.dataset.entryId);
          return !findEntry(id) && !held.has(id) && !meanwhile.has(id);
        });
        added.forEach((el) => list.appendChild(el));
        const next = template.content.querySelector("[data-load-older]");
        if (next) more.replaceWith(next);
        else more.remove();
        // Changes that arrived meanwhile, again, now that the loaded range is
        // wider: in place, down here where the reader is (held ones stay held).
        meanwhile.forEach((frame, id) => {
          if (!SHOWN.has(frame.type) || (keyOnly && !frame.key_event)) removeEntry(id);
          else if (!held.has(id)) placeEntry(frame, parse(frame.html));
        });
        // Reading continues at the first older entry, for keyboards and screen readers too.
        if (added.length) {
          added[0].tabIndex = -1;
          added[0].focus();
        }
        changed();
      })
      .catch(() => {
        loading = null;
        location.href = more.href; // the plain page still works
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

  if (toggle) toggle.addEventListener("click", () => setPaused(!paused));
  render();
  // Scrolling back up to the newest entries shows what was held back.
  window.addEventListener("scroll", () => {
    if (held.size && !isScrolledDown()) releaseHeld();
  }, { passive: true });
  // Back online: try at once instead of waiting out a back-off the network caused.
  window.addEventListener("online", () => {
    if (state === "backoff") connect();
  });
  connect();
})();

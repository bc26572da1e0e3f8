/*
 * Liveticker widget loader for other sites. One line on the host page:
 *
 *   <script src="https://TICKER-HOST/static/ticker/embed.js" data-ticker="SLUG" async></script>
 *
 * Optional attributes: data-count (1-50 entries), data-key-only ("true": key events
 * only), data-theme ("light" | "dark"), data-lang ("de" | "en"), data-layout ("full" |
 * "compact"), data-header ("hide" to drop title and status), data-height (starting
 * height in px), data-title (the iframe's accessible name), data-origin (the ticker
 * server, only needed if this file is served from another host such as a CDN).
 *
 * The script puts one <div> with an iframe of /live/SLUG/embed/ right after its own
 * <script> tag and changes nothing else: no globals, no styles outside that <div>.
 * The page in the iframe reports its height with postMessage; a message is only
 * believed if it comes from the ticker server's origin and from this very iframe,
 * so several widgets on one page never resize each other.
 */
(function () {
  "use strict";

  var DONE = "data-liveticker-done";
  // data- attribute (as in dataset) -> query parameter of the embed page.
  var OPTIONS = {
    count: "count",
    keyOnly: "key_only",
    theme: "theme",
    lang: "lang",
    layout: "layout",
    header: "header"
  };
  var START_HEIGHT = 300;
  var MIN_HEIGHT = 60;
  var MAX_HEIGHT = 50000;
  var SCRIPT_NAME = /\/embed(\.[0-9a-f]{6,})?\.js([?#]|$)/;

  var widgets = [];

  function mount(script) {
    script.setAttribute(DONE, "");
    var data = script.dataset;
    var slug = data.ticker || "";
    if (!/^[A-Za-z0-9_-]+$/.test(slug)) return;
    var origin;
    try {
      origin = new URL(data.origin || script.src, location.href).origin;
    } catch (e) {
      return;
    }
    var url = new URL("/live/" + slug + "/embed/", origin);
    Object.keys(OPTIONS).forEach(function (name) {
      if (data[name]) url.searchParams.set(OPTIONS[name], data[name]);
    });
    // Lets the widget address its height messages to this page only.
    if (/^https?:\/\//.test(location.origin)) url.searchParams.set("parent", location.origin);

    var height = parseInt(data.height, 10);
    if (!(height >= MIN_HEIGHT && height <= MAX_HEIGHT)) height = START_HEIGHT;

    var box = document.createElement("div");
    box.className = "liveticker-embed";
    box.style.cssText = "display:block;width:100%;max-width:100%;margin:0;padding:0";
    var frame = document.createElement("iframe");
    frame.src = url.href;
    frame.title = data.title || "Liveticker";
    frame.setAttribute("loading", "lazy");
    frame.style.cssText =
      "display:block;width:100%;height:" + height + "px;border:0;margin:0;padding:0";
    box.appendChild(frame);
    script.parentNode.insertBefore(box, script.nextSibling);
    widgets.push({ frame: frame, origin: origin });
  }

  function onMessage(event) {
    var message = event.data;
    if (!message || message.type !== "liveticker:height") return;
    for (var i = 0; i < widgets.length; i++) {
      var widget = widgets[i];
      if (event.source !== widget.frame.contentWindow) continue;
      if (event.origin !== widget.origin) return;
      var height = Math.ceil(Number(message.height));
      if (height >= MIN_HEIGHT) {
        widget.frame.style.height = Math.min(height, MAX_HEIGHT) + "px";
      }
      return;
    }
  }

  // This tag first; then any other snippet tag not yet handled (async scripts may
  // run in any order, and copies of this file may be cached under another name).
  var current = document.currentScript;
  if (current && current.hasAttribute("data-ticker") && !current.hasAttribute(DONE)) {
    mount(current);
  }
  var others = document.querySelectorAll("script[data-ticker]:not([" + DONE + "])");
  Array.prototype.forEach.call(others, function (script) {
    if (SCRIPT_NAME.test(script.src)) mount(script);
  });
  if (widgets.length) window.addEventListener("message", onMessage);
})();

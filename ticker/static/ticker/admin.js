// Newsroom admin: the rich-text editor's toolbar in the admin's language.
//
// django-prose-editor translates its dialogs through Django's JavaScript
// catalogue (window.gettext), but writes its toolbar's tooltips, accessible
// names and block-type menu in English. Their translations are in the
// project's catalogue (locale/<lang>/LC_MESSAGES/djangojs.po), which the
// admin's catalogue includes; this script applies them to every toolbar,
// including buttons the editor adds or swaps later.
(function () {
  "use strict";
  if (typeof window.gettext !== "function") return;
  var gettext = window.gettext;

  function setText(node, source) {
    var text = gettext(source);
    if (node.textContent !== text) node.textContent = text;
  }

  function translate(bar) {
    bar.querySelectorAll("button[title]").forEach(function (button) {
      // Remember the English source: translating twice must not need a German key.
      if (!button.dataset.sourceTitle) button.dataset.sourceTitle = button.title;
      var label = gettext(button.dataset.sourceTitle);
      if (button.title !== label) button.title = label;
      if (button.getAttribute("aria-label") !== label) button.setAttribute("aria-label", label);
    });
    bar.querySelectorAll(".prose-menubar__option > *").forEach(function (option) {
      if (!option.dataset.sourceText) option.dataset.sourceText = option.textContent;
      setText(option, option.dataset.sourceText);
    });
  }

  var scheduled = false;
  function translateAll() {
    scheduled = false;
    document.querySelectorAll(".prose-menubar").forEach(translate);
  }
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    window.requestAnimationFrame(translateAll);
  }

  // Editors start as ES modules and may build their toolbars after this runs.
  new MutationObserver(schedule).observe(document.documentElement, { childList: true, subtree: true });
  translateAll();
})();

/* paperboy — progressive enhancement only; every page works without it. */
(function () {
  "use strict";

  function renderTex() {
    if (typeof window.renderMathInElement !== "function") return;
    var nodes = document.querySelectorAll(".tex");
    for (var i = 0; i < nodes.length; i++) {
      try {
        window.renderMathInElement(nodes[i], {
          delimiters: [
            { left: "$$", right: "$$", display: true },
            { left: "\\[", right: "\\]", display: true },
            { left: "\\(", right: "\\)", display: false },
            { left: "$", right: "$", display: false }
          ],
          throwOnError: false,
          trust: false,
          ignoredTags: ["script", "noscript", "style", "textarea", "pre", "code", "option"]
        });
      } catch (e) {
        /* leave the raw TeX in place */
      }
    }
  }

  function fallbackCopy(text) {
    var ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.style.position = "fixed";
    ta.style.top = "-1000px";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(ta);
    return ok;
  }

  function flash(button, label) {
    if (!button.hasAttribute("data-label")) {
      button.setAttribute("data-label", button.textContent);
    }
    button.textContent = label;
    clearTimeout(button._pbTimer);
    button._pbTimer = setTimeout(function () {
      button.textContent = button.getAttribute("data-label");
    }, 1600);
  }

  function onCopyClick(event) {
    var button = event.currentTarget;
    var target = document.getElementById(button.getAttribute("data-copy-target") || "");
    if (!target) return;
    var text = target.textContent || "";
    var done = function () { flash(button, "Copied"); };
    var fail = function () { flash(button, fallbackCopy(text) ? "Copied" : "Copy failed"); };
    try {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, fail);
      } else {
        fail();
      }
    } catch (e) {
      fail();
    }
  }

  function wireCopyButtons() {
    var buttons = document.querySelectorAll("button[data-copy-target]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener("click", onCopyClick);
      buttons[i].setAttribute("aria-live", "polite");
    }
  }

  function init() {
    try { renderTex(); } catch (e) { /* never break the page */ }
    try { wireCopyButtons(); } catch (e) { /* ditto */ }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

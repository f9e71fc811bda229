/* paperboy — progressive enhancement only; every page works without it. */
(function () {
  "use strict";

  function renderTex() {
    if (typeof window.renderMathInElement !== "function") return;
    var nodes = document.querySelectorAll(".tex");
    for (var i = 0; i < nodes.length; i++) {
      try {
        protectDollars(nodes[i]);
        window.renderMathInElement(nodes[i], {
          delimiters: [
            { left: "$$", right: "$$", display: true },
            { left: "\\[", right: "\\]", display: true },
            { left: "\\(", right: "\\)", display: false },
            { left: "$", right: "$", display: false }
          ],
          throwOnError: false,
          trust: false,
          ignoredTags: ["script", "noscript", "style", "textarea", "pre", "code", "option"],
          ignoredClasses: ["tex-text"]
        });
        unescapeText(nodes[i]);
      } catch (e) {
        /* leave the raw TeX in place */
      }
    }
  }

  /* An escaped dollar ("\$400K") is text, not the start of math: it becomes a "$" in an element
     that KaTeX skips, before KaTeX looks for delimiters. */
  function protectDollars(root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var texts = [];
    while (walker.nextNode()) {
      if (walker.currentNode.nodeValue.indexOf("\\$") >= 0) texts.push(walker.currentNode);
    }
    for (var i = 0; i < texts.length; i++) {
      var parts = texts[i].nodeValue.split("\\$");
      var frag = document.createDocumentFragment();
      for (var j = 0; j < parts.length; j++) {
        if (j > 0) {
          var span = document.createElement("span");
          span.className = "tex-text";
          span.textContent = "$";
          frag.appendChild(span);
        }
        frag.appendChild(document.createTextNode(parts[j]));
      }
      texts[i].parentNode.replaceChild(frag, texts[i]);
    }
  }

  /* TeX's text-mode escapes outside math ("57\% faster", "0.1\,ms", "\$400K") as the
     characters they stand for; math already rendered by KaTeX is left alone. */
  var TEXT_ESCAPES = { "%": "%", "&": "&", "_": "_", "#": "#", "$": "$", "{": "{", "}": "}", ",": "\u2009", " ": " " };
  function unescapeText(root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode: function (node) {
        var el = node.parentNode;
        while (el && el !== root) {
          if (el.classList && el.classList.contains("katex")) return NodeFilter.FILTER_REJECT;
          el = el.parentNode;
        }
        return node.nodeValue.indexOf("\\") >= 0 ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_SKIP;
      }
    });
    var texts = [];
    while (walker.nextNode()) texts.push(walker.currentNode);
    for (var i = 0; i < texts.length; i++) {
      texts[i].nodeValue = texts[i].nodeValue.replace(/\\([%&_#${}, ])/g, function (_, c) {
        return TEXT_ESCAPES[c];
      });
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

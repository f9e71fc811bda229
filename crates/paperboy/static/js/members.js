/* paperboy — members: upvote and save without a page load. The forms work without this file. */
(function () {
  "use strict";

  function send(form) {
    return fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      body: new URLSearchParams(new FormData(form))
    });
  }

  function onVote(event) {
    var form = event.currentTarget;
    var button = form.querySelector("button");
    var field = form.querySelector("input[name=vote]");
    if (!button || !field) return;
    event.preventDefault();
    // Busy, not disabled: a disabled button drops the keyboard focus (WCAG 2.4.3).
    if (form.dataset.busy) return;
    form.dataset.busy = "1";
    button.setAttribute("aria-disabled", "true");
    send(form).then(function (res) {
      if (res.status === 401) { window.location.href = "/login"; return null; }
      if (!res.ok) { form.submit(); return null; }
      return res.json();
    }).then(function (state) {
      if (!state) return;
      var count = form.querySelector(".vote-count");
      if (count) count.textContent = String(state.upvotes);
      button.classList.toggle("upvoted", !!state.upvoted);
      button.setAttribute("aria-pressed", state.upvoted ? "true" : "false");
      field.value = state.upvoted ? "down" : "up";
    }).catch(function () { form.submit(); }).then(function () { idle(form, button); });
  }

  function idle(form, button) {
    delete form.dataset.busy;
    button.removeAttribute("aria-disabled");
  }

  /* A form with data-confirm (deleting a comment, banning a member) asks first. */
  function onConfirm(event) {
    if (!window.confirm(event.currentTarget.getAttribute("data-confirm"))) event.preventDefault();
  }

  function onSave(event) {
    var form = event.currentTarget;
    var button = form.querySelector("button");
    var field = form.querySelector("input[name=save]");
    if (!button || !field) return;
    event.preventDefault();
    if (form.dataset.busy) return;
    form.dataset.busy = "1";
    button.setAttribute("aria-disabled", "true");
    send(form).then(function (res) {
      if (!res.ok) { form.submit(); return null; }
      return res.json();
    }).then(function (state) {
      if (!state) return;
      button.classList.toggle("saved", !!state.saved);
      button.setAttribute("aria-pressed", state.saved ? "true" : "false");
      button.textContent = state.saved ? "Saved" : "Save";
      field.value = state.saved ? "0" : "1";
    }).catch(function () { form.submit(); }).then(function () { idle(form, button); });
  }

  function init() {
    if (typeof window.fetch !== "function" || typeof window.URLSearchParams !== "function") return;
    var i;
    var votes = document.querySelectorAll("form.vote-form");
    for (i = 0; i < votes.length; i++) votes[i].addEventListener("submit", onVote);
    var saves = document.querySelectorAll("form.save-form");
    for (i = 0; i < saves.length; i++) saves[i].addEventListener("submit", onSave);
    var asking = document.querySelectorAll("form[data-confirm]");
    for (i = 0; i < asking.length; i++) asking[i].addEventListener("submit", onConfirm);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

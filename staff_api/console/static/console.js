// The console's only script: new chat messages without a full reload (polling), and a confirmation on buttons
// marked data-confirm. Everything works without it except the live transcript, which then updates on reload.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = (button && button.dataset.confirm) || event.target.dataset.confirm;
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });

  function poll(box) {
    var url = box.dataset.pollUrl;
    var after = box.dataset.after || "0";
    fetch(url + "?after=" + encodeURIComponent(after), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.text().then(function (html) { return { html: html, last: response.headers.get("X-Last-Message-Id") }; }) : null;
      })
      .then(function (result) {
        if (result && result.html.trim()) {
          var nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
          box.insertAdjacentHTML("beforeend", result.html);
          if (nearBottom) { box.scrollTop = box.scrollHeight; }
        }
        if (result && result.last) { box.dataset.after = result.last; }
      })
      .catch(function () { /* the next round tries again */ })
      .finally(function () { window.setTimeout(function () { poll(box); }, Number(box.dataset.pollMs || 3000)); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll-url]").forEach(function (box) {
      box.scrollTop = box.scrollHeight;
      window.setTimeout(function () { poll(box); }, Number(box.dataset.pollMs || 3000));
    });
  });
})();

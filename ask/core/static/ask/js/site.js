// Progressive enhancement: votes and accepts without a page load, search suggestions while typing.
// Every form also works without this script (a normal POST and a redirect back).
(function () {
  "use strict";

  function csrf(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function post(form) {
    return fetch(form.action, {
      method: "POST",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf(form) },
      body: new FormData(form),
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.error || "The request failed."); }
        return data;
      });
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList.contains("vote-form")) {
      event.preventDefault();
      post(form).then(function (data) {
        var box = form.closest(".vote");
        box.querySelector(".rating").textContent = data.rating;
        var up = box.querySelector(".vote-up"), down = box.querySelector(".vote-down");
        up.classList.toggle("active", data.vote === 1);
        down.classList.toggle("active", data.vote === -1);
        up.form.querySelector("input[name=value]").value = data.vote === 1 ? "0" : "1";
        down.form.querySelector("input[name=value]").value = data.vote === -1 ? "0" : "-1";
      }).catch(function (error) { window.alert(error.message); });
    } else if (form.hasAttribute("data-add-form")) {  // the menu: add without leaving the page
      event.preventDefault();
      var said = document.querySelector("[data-added]");
      post(form).then(function (data) {
        document.querySelectorAll("[data-cart-count]").forEach(function (count) { count.textContent = data.count; });
        if (said) { said.textContent = data.message; }
      }).catch(function (error) { if (said) { said.textContent = error.message; } });
    } else if (form.classList.contains("accept-form")) {
      event.preventDefault();
      post(form).then(function () { window.location.reload(); })
        .catch(function (error) { window.alert(error.message); });
    }
  });

  // Dates as "3 hours ago" (pages and cards are cached, so the server writes the exact date and the
  // browser says how long ago); the exact time, in the reader's own zone, on hover.
  var units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600],
               ["minute", 60]];
  function ago(seconds) {
    for (var i = 0; i < units.length; i++) {
      var n = Math.floor(seconds / units[i][1]);
      if (n >= 1) { return n + " " + units[i][0] + (n === 1 ? "" : "s") + " ago"; }
    }
    return "just now";
  }
  document.querySelectorAll("time[data-relative]").forEach(function (element) {
    var when = new Date(element.getAttribute("datetime"));
    if (isNaN(when)) { return; }
    var seconds = (Date.now() - when.getTime()) / 1000;
    element.title = when.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit",
                                                     minute: "2-digit", timeZoneName: "short" });
    if (seconds > -60 && seconds < 30 * 86400) { element.textContent = ago(Math.max(seconds, 0)); }
  });

  // Posts stored before their code and tables were made focusable (keyboard scrolling).
  document.querySelectorAll(".text pre:not([tabindex]), .text table:not([tabindex])").forEach(function (box) {
    box.tabIndex = 0;
  });

  // Markdown preview: the server's own renderer, so what is shown is what will be stored.
  document.querySelectorAll("textarea[data-preview-url]").forEach(function (area) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary preview-button";
    button.textContent = "Preview";
    var shown = document.createElement("div");
    shown.className = "text preview";
    shown.setAttribute("aria-live", "polite");
    shown.hidden = true;
    area.insertAdjacentElement("afterend", shown);
    area.insertAdjacentElement("afterend", button);
    button.addEventListener("click", function () {
      var body = new FormData();
      body.append("text", area.value);
      fetch(area.dataset.previewUrl, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": csrf(area.form) },
      }).then(function (response) { return response.json(); }).then(function (data) {
        shown.hidden = false;
        if (data.error) { shown.textContent = data.error; } else { shown.innerHTML = data.html; }
      });
    });
  });

  // Tag suggestions: existing tags completing the last word typed.
  document.querySelectorAll("input[data-suggest-tags-url]").forEach(function (input) {
    var list = document.createElement("datalist");
    list.id = input.id + "-suggestions";
    input.setAttribute("list", list.id);
    input.insertAdjacentElement("afterend", list);
    input.addEventListener("input", function () {
      var words = input.value.split(/[\s,]+/), last = words.pop();
      if (!last) { list.innerHTML = ""; return; }
      fetch(input.dataset.suggestTagsUrl + "?q=" + encodeURIComponent(last), { headers: { "Accept": "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          list.innerHTML = "";
          data.tags.forEach(function (tag) {
            var option = document.createElement("option");
            option.value = words.concat([tag]).join(" ");
            list.appendChild(option);
          });
        });
    });
  });

  var search = document.querySelector("input[data-suggest-url]");
  if (search) {
    var list = document.getElementById(search.getAttribute("list"));
    var timer = null, urls = {};
    search.addEventListener("input", function () {
      window.clearTimeout(timer);
      // A suggestion picked from the list puts its title in the box: open that question.
      if (Object.prototype.hasOwnProperty.call(urls, search.value)) {
        window.location.assign(urls[search.value]);
        return;
      }
      var text = search.value.trim();
      if (text.length < 2) { list.innerHTML = ""; return; }
      timer = window.setTimeout(function () {
        fetch(search.dataset.suggestUrl + "?q=" + encodeURIComponent(text), { headers: { "Accept": "application/json" } })
          .then(function (response) { return response.json(); })
          .then(function (data) {
            list.innerHTML = "";
            urls = {};
            data.suggestions.forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.title;
              urls[item.title] = item.url;
              list.appendChild(option);
            });
          });
      }, 150);
    });
  }

  // A member whose time zone the site does not know yet: tell it the browser's (the tz cookie, kept in
  // the profile by accounts.timezones from the next request on). A page that shows times is shown
  // again in it, once a tab whatever happens; others are not (a reload would lose their messages).
  if (document.body.hasAttribute("data-tz-unknown") && window.Intl) {
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone) {
        document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax" +
          (window.location.protocol === "https:" ? "; Secure" : "");
        if (document.body.hasAttribute("data-tz-sensitive") && !window.sessionStorage.getItem("tz-sent")) {
          window.sessionStorage.setItem("tz-sent", "1");
          window.location.reload();
        }
      }
    } catch (error) { /* storage refused: the site's zone, named on every time, stays */ }
  }

  // Pages that follow something as it changes (an order, a kitchen's tickets) ask their own small JSON
  // endpoint every few seconds and put in the server's new rendering when its version changed;
  // without this script they are plain pages. Paused while the tab is hidden; stops once final.
  document.querySelectorAll("[data-live-url]").forEach(function (box) {
    var every = 4000, version = box.dataset.liveVersion;
    function poll() {
      if (document.hidden) { window.setTimeout(poll, every); return; }
      fetch(box.dataset.liveUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
          if ((response.status >= 400 && response.status < 500) || (response.ok && !json)) {
            return null;  // gone, not allowed, logged out (the log-in page): nothing more to follow
          }
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (data) {
          if (data === null) { return; }
          if (data.version !== version) { box.innerHTML = data.html; version = data.version; }
          if (!data.final) { window.setTimeout(poll, every); }
        })
        .catch(function () { window.setTimeout(poll, every * 4); });  // busy or offline: slower
    }
    window.setTimeout(poll, every);
  });
})();

// A button that undoes something for good (reject an order, cancel one) asks first: data-confirm
// holds the question. Delegated, so buttons a live page puts in later ask too. Without JavaScript
// the button works at once, as every form of the site does.
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("[data-confirm]") : null;
  if (button && !window.confirm(button.dataset.confirm)) { event.preventDefault(); }
});

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
    } else if (form.classList.contains("accept-form")) {
      event.preventDefault();
      post(form).then(function () { window.location.reload(); })
        .catch(function (error) { window.alert(error.message); });
    }
  });

  var search = document.querySelector("input[data-suggest-url]");
  if (search) {
    var list = document.getElementById(search.getAttribute("list"));
    var timer = null;
    search.addEventListener("input", function () {
      window.clearTimeout(timer);
      var text = search.value.trim();
      if (text.length < 2) { list.innerHTML = ""; return; }
      timer = window.setTimeout(function () {
        fetch(search.dataset.suggestUrl + "?q=" + encodeURIComponent(text), { headers: { "Accept": "application/json" } })
          .then(function (response) { return response.json(); })
          .then(function (data) {
            list.innerHTML = "";
            data.suggestions.forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.title;
              list.appendChild(option);
            });
          });
      }, 150);
    });
  }
})();

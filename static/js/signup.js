// The sign-up page tells the server when a visitor starts typing, once per form: the first step of the registration
// funnel (visitors who begin the form, against those who complete it). Without this script the start is counted
// when the form is posted.
(function () {
  "use strict";
  var form = document.querySelector("form[data-signup-start]");
  if (!form) return;
  function started() {
    form.removeEventListener("input", started);
    var body = new FormData();
    body.append("start", form.elements.start.value);
    body.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
    fetch(form.getAttribute("data-signup-start"), { method: "POST", body: body, credentials: "same-origin", keepalive: true })
      .catch(function () {});
  }
  form.addEventListener("input", started);
})();

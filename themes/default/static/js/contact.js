// Contact form enhancement: send with fetch, show errors next to the fields,
// and never clear what the visitor typed unless the message was stored.
// Without this script the form still works as a plain POST.
(function () {
  "use strict";

  var form = document.querySelector("form[data-contact-form]");
  if (!form) return;

  // Service pages link here with ?service=<id>: preselect it when the region offers it.
  var wanted = new URLSearchParams(window.location.search).get("service");
  var select = form.elements.namedItem("service");
  if (wanted && select && select.querySelector('option[value="' + CSS.escape(wanted) + '"]')) {
    select.value = wanted;
  }

  if (!window.fetch) return;

  var status = form.querySelector("[data-contact-status]") || document.getElementById("contact-form-status");
  var button = form.querySelector("button[type=submit]");
  var email = form.getAttribute("data-email") || "";

  function showStatus(kind, text) {
    status.className = "contact-form__status contact-form__status--" + kind;
    status.textContent = text;
    status.hidden = false;
  }

  function clearErrors() {
    form.querySelectorAll("[data-error-for]").forEach(function (node) {
      node.textContent = "";
      node.hidden = true;
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (node) {
      node.removeAttribute("aria-invalid");
    });
  }

  function showFieldErrors(errors) {
    var first = null;
    Object.keys(errors).forEach(function (field) {
      var slot = form.querySelector('[data-error-for="' + CSS.escape(field) + '"]');
      var input = form.elements.namedItem(field);
      if (slot) {
        slot.textContent = errors[field];
        slot.hidden = false;
      }
      if (input && input.setAttribute) {
        input.setAttribute("aria-invalid", "true");
        if (!first) first = input;
      }
    });
    return first;
  }

  function payload() {
    // JSON keeps non-Latin text compact (form encoding triples its size).
    var data = {};
    new FormData(form).forEach(function (value, key) {
      if (typeof value === "string") data[key] = value;
    });
    return JSON.stringify(data);
  }

  function fallbackText() {
    return email ? " You can also email us at " + email + "." : "";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    button.disabled = true;
    showStatus("pending", "Sending your message…");

    fetch(form.action, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: payload(),
      credentials: "same-origin",
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () { return {}; })
          .then(function (body) { return { status: response.status, body: body, response: response }; });
      })
      .then(function (result) {
        var body = result.body || {};
        if (result.status >= 200 && result.status < 300 && body.ok) {
          form.reset();
          showStatus("success", "Thank you! Your message has been sent. We usually reply within one working day.");
          status.focus();
          return;
        }
        if (result.status === 422 && body.errors) {
          var first = showFieldErrors(body.errors);
          showStatus("error", "Please check the highlighted fields. Your text is still in the form.");
          if (first && first.focus) first.focus();
          return;
        }
        if (result.status === 429) {
          var wait = result.response.headers.get("Retry-After");
          showStatus("error", "You have sent several messages in a short time. Please wait" +
            (wait ? " " + wait + " seconds" : " a moment") + " and send again. Your text is still in the form.");
          status.focus();
          return;
        }
        showStatus("error", (body.error || "Your message could not be sent.") +
          " Your text is still in the form, so you can send it again." + fallbackText());
        status.focus();
      })
      .catch(function () {
        showStatus("error", "We could not reach our server, so your message was not sent. " +
          "Check your connection and send again; your text is still in the form." + fallbackText());
        status.focus();
      })
      .then(function () {
        button.disabled = false;
      });
  });
})();

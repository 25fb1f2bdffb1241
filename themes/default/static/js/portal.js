// Client portal: static page, data fetched only after sign-in. The access token lives in
// sessionStorage (not a cookie, so no CSRF surface) and is sent as a bearer token.
(function () {
  "use strict";
  var root = document.getElementById("portal");
  if (!root) return;
  var api = root.getAttribute("data-api") || "/api/portal";
  var KEY = "sitegen.portal.token";
  var cfg = null;
  var current = null;
  function $(id) { return document.getElementById(id); }
  function status(text) { $("portal-status").textContent = text || ""; }
  function token() { return sessionStorage.getItem(KEY); }

  function call(method, path, body) {
    var opts = { method: method, headers: { "Accept": "application/json" } };
    if (token()) opts.headers.Authorization = "Bearer " + token();
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(api + path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (r.status === 401) { sessionStorage.removeItem(KEY); show(); }
        if (!r.ok) throw new Error(data.error || ("HTTP " + r.status));
        return data;
      });
    });
  }

  function show() {
    var signedIn = !!token();
    $("portal-app").hidden = !signedIn;
    $("portal-login").hidden = signedIn || !cfg || cfg.mode !== "supabase";
    $("portal-verify").hidden = true;
    $("portal-dev-login").hidden = signedIn || !cfg || !cfg.dev_login;
    if (signedIn) loadProjects();
  }

  function item(list, text) {
    var li = document.createElement("li");
    li.textContent = text;
    list.appendChild(li);
    return li;
  }

  function loadProjects() {
    call("GET", "/projects").then(function (data) {
      var list = $("portal-projects");
      list.textContent = "";
      data.projects.forEach(function (p) {
        var li = item(list, "");
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = p.name + " (" + p.status + ")";
        b.addEventListener("click", function () { openProject(p); });
        li.appendChild(b);
      });
      if (!data.projects.length) item(list, "No projects yet.");
    }).catch(function (e) { status(e.message); });
  }

  function openProject(p) {
    current = p;
    $("portal-project").hidden = false;
    $("portal-project-name").textContent = p.name;
    loadMessages();
    loadFiles();
  }

  function loadMessages() {
    call("GET", "/projects/" + current.id + "/messages").then(function (data) {
      var list = $("portal-messages");
      list.textContent = "";
      data.messages.forEach(function (m) { item(list, m.body); });
    }).catch(function (e) { status(e.message); });
  }

  function loadFiles() {
    // Every file of the project: the agency's as well as the client's own uploads.
    call("GET", "/projects/" + current.id + "/files").then(function (data) {
      var list = $("portal-files");
      list.textContent = "";
      data.files.forEach(function (f) {
        var li = item(list, "");
        var b = document.createElement("button");
        b.type = "button";
        b.className = "portal-download";
        b.textContent = "Download " + f.name;
        b.addEventListener("click", function () {
          call("GET", "/files/" + f.id + "/download-url").then(function (d) {
            var url = d.download_url;
            // Supabase Storage serves a signed URL inline unless asked for an attachment: without
            // `download` a PDF or text file would replace the portal page instead of downloading.
            if (cfg && cfg.mode === "supabase") {
              url += (url.indexOf("?") < 0 ? "?" : "&") + "download=" + encodeURIComponent(f.name);
            }
            window.location.assign(url);
          }).catch(function (e) { status(e.message); });
        });
        li.appendChild(b);
      });
    }).catch(function (e) { status(e.message); });
  }

  function download(name, data) {
    var a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  function takeHashToken() {
    // Supabase's magic-link redirect puts the session in the URL fragment.
    var params = new URLSearchParams(window.location.hash.slice(1));
    var t = params.get("access_token");
    if (t) {
      sessionStorage.setItem(KEY, t);
      history.replaceState(null, "", window.location.pathname + window.location.search);
    }
  }

  function supabase(path, body) {
    return fetch(cfg.supabase_url + "/auth/v1" + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "apikey": cfg.supabase_key },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (d) {
        if (!r.ok) throw new Error(d.msg || d.error_description || ("HTTP " + r.status));
        return d;
      });
    });
  }

  $("portal-login").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var email = $("portal-email").value;
    supabase("/otp", { email: email, create_user: false }).then(function () {
      status("Check your e-mail: follow the link or type the code here.");
      $("portal-verify").hidden = false;
    }).catch(function (e) { status(e.message); });
  });

  $("portal-verify").addEventListener("submit", function (ev) {
    ev.preventDefault();
    supabase("/verify", { type: "email", email: $("portal-email").value, token: $("portal-code").value })
      .then(function (d) { sessionStorage.setItem(KEY, d.access_token); status(""); show(); })
      .catch(function (e) { status(e.message); });
  });

  $("portal-dev-login").addEventListener("submit", function (ev) {
    ev.preventDefault();
    call("POST", "/dev-login", { email: $("portal-dev-email").value }).then(function (d) {
      sessionStorage.setItem(KEY, d.access_token);
      status("");
      show();
    }).catch(function (e) { status(e.message); });
  });

  $("portal-logout").addEventListener("click", function () {
    sessionStorage.removeItem(KEY);
    current = null;
    $("portal-project").hidden = true;
    status("Signed out.");
    show();
  });

  $("portal-export").addEventListener("click", function () {
    call("GET", "/me/export").then(function (d) { download("my-data.json", d); })
      .catch(function (e) { status(e.message); });
  });

  $("portal-delete").addEventListener("click", function () {
    call("POST", "/me/deletion-request").then(function () {
      status("Your deletion request was sent; we confirm by e-mail.");
    }).catch(function (e) { status(e.message); });
  });

  $("portal-profile-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var changes = {};
    ["name", "company", "phone", "email"].forEach(function (k) {
      var v = $("portal-profile-" + k).value.trim();
      if (v) changes[k] = v;
    });
    if (!Object.keys(changes).length) { status("Fill in what should change."); return; }
    call("PATCH", "/me", changes).then(function () {
      ev.target.reset();
      status("Your details were saved.");
    }).catch(function (e) { status(e.message); });
  });

  $("portal-request-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    call("POST", "/me/requests", { kind: $("portal-request-kind").value, note: $("portal-request-note").value })
      .then(function () {
        $("portal-request-note").value = "";
        status("Your request was sent; we confirm by e-mail when it is done.");
      }).catch(function (e) { status(e.message); });
  });

  $("portal-message-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    call("POST", "/projects/" + current.id + "/messages", { body: $("portal-message").value }).then(function () {
      $("portal-message").value = "";
      loadMessages();
    }).catch(function (e) { status(e.message); });
  });

  $("portal-upload-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var file = $("portal-file").files[0];
    if (!file) return;
    call("POST", "/projects/" + current.id + "/files/upload-url",
         { name: file.name, size: file.size, content_type: file.type || "application/octet-stream" })
      .then(function (d) {
        return fetch(d.upload_url, { method: "PUT", headers: { "Content-Type": file.type }, body: file })
          .then(function (r) { if (!r.ok) throw new Error("upload failed: HTTP " + r.status); });
      })
      .then(function () { status("Uploaded " + file.name + "."); loadFiles(); })
      .catch(function (e) { status(e.message); });
  });

  takeHashToken();
  fetch(api + "/config").then(function (r) { return r.json(); }).then(function (c) {
    cfg = c;
    show();
  }).catch(function () { status("The portal is unavailable right now."); });
})();

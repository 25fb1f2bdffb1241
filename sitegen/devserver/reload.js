// sitegen serve: live reload, build-error overlay and region badge.
// Served only by the dev server (/__sitegen/reload.js); never part of a build.
(function () {
  "use strict";
  var script = document.currentScript;
  var generation = Number(script.getAttribute("data-generation"));
  var region = script.getAttribute("data-region");
  var label = script.getAttribute("data-label");
  var regions = (script.getAttribute("data-regions") || "").split(" ").filter(Boolean);

  function badge() {
    if (!region) return;
    var el = document.createElement("div");
    el.id = "sitegen-badge";
    el.setAttribute("role", "status");
    el.textContent = "sitegen serve \u00b7 " + region + " (" + label + ")";
    el.title = "Switch with ?country=XX on an un-prefixed URL, or the nf_country cookie";
    document.body.appendChild(el);
  }

  // A link to this page of two regions side by side (/__sitegen/diff), for pages inside a region.
  function compareLink() {
    var prefix = "/" + region + "/";
    var others = regions.filter(function (r) { return r !== region; });
    if (!region || !others.length || window.location.pathname.indexOf(prefix) !== 0) return;
    var path = window.location.pathname.slice(prefix.length - 1);
    var link = document.createElement("a");
    link.id = "sitegen-compare";
    link.href = "/__sitegen/diff?path=" + encodeURIComponent(path) +
      "&regions=" + encodeURIComponent(region + "," + others[0]);
    link.textContent = "Compare regions";
    link.title = "This page in " + region + " and " + others[0] + " side by side, with the differences";
    document.body.appendChild(link);
  }

  // A page with draft: true, shown because serve shows drafts unless --no-drafts.
  function draftBadge() {
    if (script.getAttribute("data-draft") !== "true") return;
    var el = document.createElement("div");
    el.id = "sitegen-draft";
    el.setAttribute("role", "status");
    el.textContent = "Draft";
    el.title = "draft: true in the front matter: not published by sitegen build (unless --drafts); " +
      "hide drafts here with sitegen serve --no-drafts";
    document.body.appendChild(el);
  }

  function clearOverlay() {
    var old = document.getElementById("sitegen-overlay");
    if (old) old.remove();
  }

  function showErrors(errors) {
    clearOverlay();
    var box = document.createElement("section");
    box.id = "sitegen-overlay";
    box.setAttribute("role", "alert");
    var title = document.createElement("h2");
    title.textContent = "Build failed: " + errors.length + " problem" + (errors.length === 1 ? "" : "s") +
      " (showing the last good page)";
    box.appendChild(title);
    var list = document.createElement("ol");
    errors.forEach(function (error) {
      var item = document.createElement("li");
      if (error.where) {
        var where = document.createElement("code");
        where.textContent = error.where;
        item.appendChild(where);
        item.appendChild(document.createTextNode(" "));
      }
      item.appendChild(document.createTextNode((error.key ? error.key + ": " : "") + error.message));
      list.appendChild(item);
    });
    box.appendChild(list);
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "Hide";
    close.addEventListener("click", clearOverlay);
    box.appendChild(close);
    document.body.appendChild(box);
  }

  // Whether this document is one of `pages` (URL paths such as "/pk/about/"). The dev server's own
  // pages (/__sitegen/diff shows pages of two regions) always reload.
  function showsOneOf(pages) {
    var path = window.location.pathname;
    if (path.indexOf("/__sitegen/") === 0) return true;
    try {
      path = decodeURI(path);
    } catch (e) {
      return true;
    }
    path = path.replace(/index\.html$/, "");
    return pages.indexOf(path) !== -1;
  }

  function connect() {
    var source = new EventSource("/__sitegen/events");
    source.addEventListener("hello", function (event) {
      var state = JSON.parse(event.data);
      // Lets tests (and curious developers) see that live reload is connected.
      document.documentElement.setAttribute("data-sitegen", "connected");
      if (state.errors.length) {
        showErrors(state.errors);
      } else if (state.generation !== generation) {
        // A build finished while this page was loading (or the server restarted).
        window.location.reload();
      }
    });
    source.addEventListener("reload", function (event) {
      var state = JSON.parse(event.data);
      // A one-page rebuild names the pages it changed; any other page is still current, so it
      // stays as it is (scroll position, open menus) and takes the new generation as its own.
      if (Array.isArray(state.pages) && !showsOneOf(state.pages)) {
        generation = state.generation;
        return;
      }
      window.location.reload();
    });
    source.addEventListener("build-error", function (event) {
      showErrors(JSON.parse(event.data).errors);
    });
  }

  badge();
  compareLink();
  draftBadge();
  connect();
})();

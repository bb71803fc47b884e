// Opens the pages of an encrypted plaintext-crm site (`build --encrypt`, docs/publishing.md).
// The page holds its AES-256-GCM ciphertext in the #plaintext-crm-encrypted JSON island. The passphrase is
// asked once: PBKDF2-HMAC-SHA256 derives 64 bytes (the AES key, then the key naming page files), which
// are kept in sessionStorage for this browser session (and in localStorage when "remember" is ticked),
// so moving between pages does not ask again. Links of a decrypted page are followed to the files the
// build stored them under. Everything runs here, with the browser's WebCrypto: nothing is sent anywhere.
(function () {
  "use strict";
  var island = document.getElementById("plaintext-crm-encrypted");
  if (!island) { return; }
  var box = JSON.parse(island.textContent);
  var STORE = "plaintext-crm-site-key:" + box.salt;
  var form = document.getElementById("unlock");
  var problem = document.getElementById("unlock-problem");
  var siteRoot = new URL(box.root || "./", window.location.href).href;

  function bytes(b64) {
    var raw = atob(b64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }
  function b64(buffer) {
    var view = new Uint8Array(buffer), text = "";
    for (var i = 0; i < view.length; i++) { text += String.fromCharCode(view[i]); }
    return btoa(text);
  }
  function fail(message) {
    problem.textContent = message;
    problem.hidden = false;
  }
  if (!window.crypto || !window.crypto.subtle) {
    fail("This browser cannot decrypt the page here: WebCrypto needs a secure context (https://, " +
         "http://localhost or a file opened from this computer).");
    return;
  }
  var subtle = window.crypto.subtle;

  function stored() {
    try {
      return window.sessionStorage.getItem(STORE) || window.localStorage.getItem(STORE);
    } catch (error) { return null; }
  }
  function keep(material, remember) {
    try {
      [window.sessionStorage, window.localStorage].forEach(function (storage) {  // keys of earlier builds go
        for (var i = storage.length - 1; i >= 0; i--) {
          var name = storage.key(i);
          if (name && name.indexOf("plaintext-crm-site-key:") === 0 && name !== STORE) { storage.removeItem(name); }
        }
      });
      window.sessionStorage.setItem(STORE, material);
      if (remember) { window.localStorage.setItem(STORE, material); }
    } catch (error) { /* storage refused (private mode): the passphrase is asked on each page */ }
  }
  function forget() {
    try {
      window.sessionStorage.removeItem(STORE);
      window.localStorage.removeItem(STORE);
    } catch (error) { /* nothing kept */ }
  }
  function derive(passphrase) {
    return subtle.importKey("raw", new TextEncoder().encode(passphrase), "PBKDF2", false, ["deriveBits"])
      .then(function (base) {
        return subtle.deriveBits({name: "PBKDF2", hash: "SHA-256", salt: bytes(box.salt),
                                  iterations: box.iterations}, base, 512);
      }).then(b64);
  }
  function open(material) {
    var keys = bytes(material);
    return subtle.importKey("raw", keys.slice(0, 32), "AES-GCM", false, ["decrypt"]).then(function (key) {
      return subtle.decrypt({name: "AES-GCM", iv: bytes(box.iv)}, key, bytes(box.data));
    }).then(function (plain) {
      return {html: new TextDecoder().decode(plain), names: keys.slice(32)};
    });
  }
  function pageName(names, logical) {
    if (logical === "index.html" || logical === "data.json") { return Promise.resolve(logical); }
    return subtle.importKey("raw", names, {name: "HMAC", hash: "SHA-256"}, false, ["sign"]).then(function (key) {
      return subtle.sign("HMAC", key, new TextEncoder().encode(logical));
    }).then(function (mac) {
      var hex = Array.prototype.map.call(new Uint8Array(mac), function (b) {
        return ("0" + b.toString(16)).slice(-2);
      }).join("").slice(0, 32);
      var dot = logical.lastIndexOf(".");
      return "p/" + hex + "." + (dot > logical.lastIndexOf("/") ? logical.slice(dot + 1) : "bin");
    });
  }
  function follow(names, event) {
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || event.defaultPrevented || event.button > 1) { return; }
    var newTab = event.button === 1 || event.metaKey || event.ctrlKey || event.shiftKey;
    var href = link.getAttribute("href");
    if (href.charAt(0) === "#" && !newTab) {  // an anchor of this page (the <base> would send it to its folder)
      event.preventDefault();
      window.location.hash = href;
      return;
    }
    if (/^[a-z][a-z0-9+.\-]*:/i.test(href) || link.href.indexOf(siteRoot) !== 0) { return; }  // mailto:, other sites
    event.preventDefault();
    var rest = link.href.slice(siteRoot.length), hash = "";
    var cut = rest.indexOf("#");
    if (cut >= 0) { hash = rest.slice(cut); rest = rest.slice(0, cut); }
    rest = decodeURIComponent(rest.split("?")[0]) || "index.html";
    if (rest.slice(-1) === "/") { rest += "index.html"; }
    pageName(names, rest).then(function (name) {
      var target = siteRoot + name.split("/").map(encodeURIComponent).join("/") + hash;
      if (newTab) {
        window.open(target, "_blank");  // an opened tab starts with a copy of this session's storage: no prompt
      } else {
        window.location.href = target;
      }
    });
  }
  function show(opened) {
    document.open();
    document.write(opened.html);
    document.close();
    document.addEventListener("click", function (event) { follow(opened.names, event); });
    document.addEventListener("auxclick", function (event) { follow(opened.names, event); });
  }

  var material = stored();
  var attempt = material ? open(material) : Promise.reject(new Error("no key"));
  attempt.then(show, function () {
    if (material) { forget(); }  // a key of an older build (a new passphrase): ask again
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var status = document.getElementById("unlock-status");
      status.textContent = "Opening…";
      problem.hidden = true;
      derive(document.getElementById("passphrase").value).then(function (derived) {
        return open(derived).then(function (opened) {
          keep(derived, document.getElementById("remember").checked);
          show(opened);
        });
      }).catch(function () {
        status.textContent = "";
        fail("Wrong passphrase: nothing was decrypted. Check it with your team and try again.");
      });
    });
  });
}());

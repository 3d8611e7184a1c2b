// Passkeys: progressive enhancement. Pages work without JavaScript; with it, and a browser that
// supports WebAuthn, the passkey buttons appear. No inline script: this file is the only one.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !window.fetch) { return; }

  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }
  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {})
    }).then(function (r) { return r.json().then(function (j) { j._ok = r.ok; return j; }); });
  }
  function credentialJson(cred) {
    var out = { id: cred.id, rawId: toB64url(cred.rawId), type: cred.type, response: {},
                clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {} };
    var r = cred.response;
    out.response.clientDataJSON = toB64url(r.clientDataJSON);
    if (r.attestationObject) {
      out.response.attestationObject = toB64url(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toB64url(r.authenticatorData);
      out.response.signature = toB64url(r.signature);
      if (r.userHandle) { out.response.userHandle = toB64url(r.userHandle); }
    }
    return out;
  }
  function showError(box, message) {
    box.hidden = false;
    box.querySelector("[data-passkey-message]").textContent = message;
    box.focus();
  }

  document.querySelectorAll("[data-passkey]").forEach(function (section) {
    var button = section.querySelector("button");
    var errorBox = section.querySelector("[data-passkey-error]");
    var csrf = section.getAttribute("data-csrf");
    var mode = section.getAttribute("data-passkey");
    section.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      post(section.getAttribute("data-options"), csrf).then(function (options) {
        if (!options._ok) { throw options; }  // e.g. sign in again first: its location says where
        var pk = options.publicKey || options;
        pk.challenge = toBytes(pk.challenge);
        if (mode === "register") {
          pk.user.id = toBytes(pk.user.id);
          (pk.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
          return navigator.credentials.create({ publicKey: pk });
        }
        (pk.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
        return navigator.credentials.get({ publicKey: pk });
      }).then(function (cred) {
        var nameField = document.getElementById("passkey-name");
        return post(section.getAttribute("data-verify"), csrf,
                    { credential: credentialJson(cred), name: nameField ? nameField.value : "" });
      }).then(function (result) {
        if ((result._ok || result.error === "login_required") && result.location) {
          window.location.assign(result.location); return;
        }
        showError(errorBox, result.error_description || "We could not use that passkey. Try again.");
        button.disabled = false;
      }).catch(function (problem) {
        if (problem && problem.location) { window.location.assign(problem.location); return; }
        showError(errorBox, "The passkey was not used. Try again, or sign in another way.");
        button.disabled = false;
      });
    });
  });
})();

// Passkeys on orgid's hosted pages: the one script they run, loaded from
// this origin under a policy that allows no other. A form marked
// data-options fetches WebAuthn options from that URL (a same-origin POST
// with the form's fields), asks the browser for a credential, and submits
// itself with the ceremony handle and the credential as JSON.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) {
    return; // the forms stay hidden (class js-only)
  }
  document.documentElement.classList.add("js");

  var b64url = {
    decode: function (s) {
      s = s.replace(/-/g, "+").replace(/_/g, "/");
      while (s.length % 4) { s += "="; }
      var bin = atob(s), out = new Uint8Array(bin.length);
      for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
      return out.buffer;
    },
    encode: function (buf) {
      var bytes = new Uint8Array(buf), bin = "";
      for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
      return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    }
  };

  function decodeList(list) {
    return (list || []).map(function (c) {
      return Object.assign({}, c, { id: b64url.decode(c.id) });
    });
  }

  function creationOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = b64url.decode(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: b64url.decode(pk.user.id) });
    pk.excludeCredentials = decodeList(pk.excludeCredentials);
    return { publicKey: pk };
  }

  function requestOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = b64url.decode(pk.challenge);
    pk.allowCredentials = decodeList(pk.allowCredentials);
    return { publicKey: pk };
  }

  function credentialJSON(cred) {
    var r = cred.response, response = { clientDataJSON: b64url.encode(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = b64url.encode(r.attestationObject);
      if (r.getTransports) { response.transports = r.getTransports(); }
    } else {
      response.authenticatorData = b64url.encode(r.authenticatorData);
      response.signature = b64url.encode(r.signature);
      if (r.userHandle) { response.userHandle = b64url.encode(r.userHandle); }
    }
    return JSON.stringify({
      id: cred.id, rawId: b64url.encode(cred.rawId), type: cred.type, response: response,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    });
  }

  // showError shows the server's description of a refusal, or the page's
  // own words for kind (data-cancelled, data-failed, data-unavailable on the
  // error element, in the page's language).
  function showError(form, kind, detail) {
    var el = form.parentNode.querySelector(".js-error");
    if (el) { el.textContent = detail || el.dataset[kind] || ""; el.hidden = false; }
  }

  document.querySelectorAll("form[data-options]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.elements.credential.value) { return; } // second pass: submit
      event.preventDefault();
      var registering = form.elements.action && form.elements.action.value === "passkey-add";
      fetch(form.dataset.options, {
        method: "POST", credentials: "same-origin", body: new URLSearchParams(new FormData(form))
      }).then(function (resp) {
        return resp.json().then(function (body) {
          if (resp.status === 403 && body.location) { window.location.assign(body.location); throw null; }
          if (!resp.ok) { var e = new Error(body.error_description || ""); e.name = "Unavailable"; throw e; }
          return body;
        });
      }).then(function (body) {
        form.elements.handle.value = body.handle;
        return registering ? navigator.credentials.create(creationOptions(body.options))
                           : navigator.credentials.get(requestOptions(body.options));
      }).then(function (cred) {
        form.elements.credential.value = credentialJSON(cred);
        form.submit();
      }).catch(function (err) {
        if (err === null) { return; }
        if (err && err.name === "NotAllowedError") { showError(form, "cancelled"); return; }
        if (err && err.name === "Unavailable") { showError(form, "unavailable", err.message); return; }
        showError(form, "failed");
      });
    });
  });
})();

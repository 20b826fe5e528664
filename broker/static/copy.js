// Copies the AuthID to the clipboard. The page works without it: the field can be selected.
(function () {
  // Duplicati opens this page as a popup and waits for the AuthID as a message.
  var authid = document.getElementById("authid");
  if (authid && window.opener && !window.opener.closed) {
    window.opener.postMessage("authid:" + authid.value, "*");
  }
  var button = document.getElementById("copy");
  var status = document.getElementById("copy-status");
  if (!button) { return; }
  button.addEventListener("click", function () {
    var field = document.getElementById(button.dataset.target);
    field.select();
    var done = function () { status.textContent = "Copied to the clipboard."; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        status.textContent = document.execCommand("copy") ? "Copied." : "Press Ctrl+C to copy.";
      });
    } else {
      status.textContent = document.execCommand("copy") ? "Copied." : "Press Ctrl+C to copy.";
    }
  });
})();

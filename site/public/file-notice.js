// A classic script (not a module), so it runs even where modules cannot load: a page opened
// from file://. It says why nothing on the page can run and how to serve it.
if (location.protocol === "file:") document.addEventListener("DOMContentLoaded", function () {
  var n = document.getElementById("capabilities") || document.body.appendChild(document.createElement("div"));
  n.className = "note"; n.id = "capabilities";
  n.textContent = "This page was opened from file://. Browsers load JavaScript modules and WebAssembly only over http(s), so nothing on it can run: the text is readable, the demos are not. Serve it with `npm run site` (http://127.0.0.1:5180, with the COOP/COEP headers) or any static server.";
  var m = document.querySelector("main"); if (m) m.prepend(n);
});

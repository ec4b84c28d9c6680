// Print buttons (data-print), without inline handlers so the page keeps a strict
// Content-Security-Policy.
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});

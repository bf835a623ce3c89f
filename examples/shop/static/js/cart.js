document.addEventListener("DOMContentLoaded", function () {
  document.body.dataset.cart = "ready";
});

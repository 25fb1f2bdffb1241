// Menu button (a details element, so it works without JavaScript): Escape closes it and returns
// focus to the button; following a link or clicking outside closes it too.
(() => {
  const menu = document.querySelector("details.menu");
  if (!menu) return;
  const button = menu.querySelector("summary");
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      button.focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (menu.open && event.target instanceof Node && !menu.contains(event.target)) menu.open = false;
  });
})();

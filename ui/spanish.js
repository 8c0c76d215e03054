// What Streamlit says in English where no setting reaches it. Installed once per page load.
(() => {
  if (window.cucuSpanish) return;
  window.cucuSpanish = true;
  // Streamlit gives its widgets the browser's language (navigator.language): an English tablet got an
  // English calendar starting on Sunday. The dashboard speaks Bolivian Spanish on every tablet, as its
  // times are La Paz's whatever the tablet's clock says.
  for (const [name, value] of [["language", "es-BO"], ["languages", Object.freeze(["es-BO", "es"])]]) {
    Object.defineProperty(window.navigator, name, { get: () => value, configurable: true });
  }
  window.dispatchEvent(new Event("resize"));  // Streamlit's app redraws on a resize and reads the language again

  // Fixed English texts with no setting: the keyboard's skip link, the unknown-address dialog, and the
  // dialogs' close button. Only an exact match is replaced; React leaves a constant text alone after.
  const SAID = new Map([
    ["Skip to main content", "Saltar al contenido principal"],
    ["Page not found", "Página no encontrada"],
    ["The page that you have requested does not seem to exist. Running the app's main page.",
      "Esa dirección no es una página del tablero: se abrió la página principal, Estado."],
  ]);
  const say = () => {
    document.querySelectorAll('[data-testid="stSkipToContent"], [data-testid="stDialog"] h2, [data-testid="stDialog"] div')
      .forEach((el) => {
        const spanish = el.childElementCount === 0 && SAID.get(el.textContent);
        if (spanish) el.textContent = spanish;
      });
    document.querySelectorAll('[data-testid="stDialog"] button[aria-label="Close"]')
      .forEach((button) => button.setAttribute("aria-label", "Cerrar"));
  };
  say();
  setInterval(say, 250);
})();

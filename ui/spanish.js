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

  // Fixed English texts with no setting (Streamlit 1.67's bundle): the keyboard's skip link, the
  // unknown-address dialog, the dialogs' close button, and the toolbar over grids and charts — its
  // buttons, their tooltips, the grid's search bar and column chooser. Only an exact match is replaced.
  const SAID = new Map([
    ["Skip to main content", "Saltar al contenido principal"],
    ["Page not found", "Página no encontrada"],
    ["The page that you have requested does not seem to exist. Running the app's main page.",
      "Esa dirección no es una página del tablero: se abrió la página principal, Estado."],
    ["Close", "Cerrar"],
    ["Search", "Buscar"],
    ["Fullscreen", "Pantalla completa"],
    ["Close fullscreen", "Salir de pantalla completa"],
    ["Show/hide columns", "Mostrar u ocultar columnas"],
    ["Clear selection", "Limpiar selección"],
    ["Download as PNG", "Descargar como PNG"],
    ["Show data", "Mostrar datos"],
    ["Show chart", "Mostrar gráfico"],
    ["Select all", "Seleccionar todas"],
    ["(index)", "(índice)"],
    ["Type to search", "Escriba para buscar"],
    ["Previous Result", "Resultado anterior"],
    ["Next Result", "Resultado siguiente"],
    ["Close Search", "Cerrar la búsqueda"],
  ]);
  // The search bar's count, which changes as one types: "12 results", "3 of 12 results", "over 1000".
  const RESULTS = /^(?:(\d+) of )?(?:(\d+) results?|over 1000)$/;
  const count = (digits) => digits.replace(/\B(?=(\d{3})+$)/g, " ");  // 1 000, as cucu.formatting
  const spanish = (text) => {
    if (SAID.has(text)) return SAID.get(text);
    const results = RESULTS.exec(text);
    if (results) {
      const [, selected, found] = results;
      const total = found === undefined ? "más de 1 000" : `${count(found)} resultado${found === "1" ? "" : "s"}`;
      return selected === undefined ? total : `${count(selected)} de ${total}`;
    }
    // A toolbar button's label with its element's name: "Search: Eventos".
    const colon = text.indexOf(": ");
    return colon > 0 && SAID.has(text.slice(0, colon)) ? SAID.get(text.slice(0, colon)) + text.slice(colon) : undefined;
  };

  const TEXTS = [
    '[data-testid="stSkipToContent"]', '[data-testid="stDialog"] h2', '[data-testid="stDialog"] div',
    '[data-testid="stTooltipContent"] p', '.gdg-search-status label', '[data-testid="search-result-area"]',
    '[data-testid="stDataFrameColumnVisibilityMenu"] span',
  ].join(", ");
  const LABELS = [
    '[data-testid="stDialog"] button', '[data-testid="stElementToolbar"] button', '.gdg-search-bar button',
    '[data-testid="stDataFrameColumnVisibilityMenu"] input',
  ].map((where) => `${where}[aria-label]`).join(", ");
  const say = () => {
    for (const el of document.querySelectorAll(TEXTS)) {
      // The text node itself, so that React, which keeps it, can still write the next count into it.
      const text = el.childNodes.length === 1 && el.firstChild.nodeType === Node.TEXT_NODE && el.firstChild;
      const said = text && spanish(text.nodeValue);
      if (said) text.nodeValue = said;
    }
    for (const el of document.querySelectorAll(LABELS)) {
      const said = spanish(el.getAttribute("aria-label"));
      if (said) el.setAttribute("aria-label", said);
    }
  };
  say();
  // Run after every change of the page, before it is painted (observer callbacks come first), so no
  // English shows even for a moment: a tooltip appears on hover, the count changes as one types.
  // Only the few selectors above are looked up, and a pass that changes nothing ends the chain.
  new MutationObserver(say).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["aria-label"],
  });
})();

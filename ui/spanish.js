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
  // unknown-address dialog, the dialogs' close button, the toolbar over grids and charts — its buttons,
  // their tooltips, the grid's search bar and column chooser — and what a screen reader says of the
  // widgets: help buttons, select boxes, date fields and their calendar, heading links, the top bar.
  // Only an exact match, or one of the patterns below, is replaced.
  const SAID = new Map([
    ["Skip to main content", "Saltar al contenido principal"],
    ["Page not found", "Página no encontrada"],
    ["The page that you have requested does not seem to exist. Running the app's main page.",
      "Esa dirección no es una página del tablero: se abrió la página principal, Estado."],
    ["Close", "Cerrar"],
    ["Help", "Ayuda"],  // a help tooltip beside text that has no label of its own (a caption's, a markdown's)
    ["Dismiss", "Cerrar"],
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
    ["App pages", "Páginas del tablero"],
    ["Link to heading", "Enlace a este título"],
    ["Open", "Abrir"],
    ["Clear all", "Quitar todas"],
    ["Selected values", "Opciones elegidas"],
    ["Choose date", "Elegir la fecha"],
    ["Choose date range", "Elegir el período"],
    ["Previous month", "Mes anterior"],
    ["Next month", "Mes siguiente"],
    ["Vega visualization", "Gráfico"],
  ]);
  // A label built around a widget's name: "Help for Hasta", "Remove SIAT caído", "day, Período start date",
  // "Choose date range, noviembre de 2026". Each is [pattern, Spanish]; the name is kept as written.
  const BUILT = [
    [/^Help for (.+)$/s, "Ayuda sobre $1"],
    [/^Remove (.+)$/s, "Quitar $1"],
    [/^(.+) start date$/s, "$1, desde"],
    [/^(.+) end date$/s, "$1, hasta"],
    [/^day, (.+)$/s, "día, $1"],
    [/^month, (.+)$/s, "mes, $1"],
    [/^year, (.+)$/s, "año, $1"],
  ];
  // The search bar's count, which changes as one types: "12 results", "3 of 12 results", "over 1000".
  const RESULTS = /^(?:(\d+) of )?(?:(\d+) results?|over 1000)$/;
  const count = (digits) => digits.replace(/\B(?=(\d{3})+$)/g, " ");  // 1 000, as cucu.formatting
  const spanish = (text) => {
    if (text === null) return undefined;
    if (SAID.has(text)) return SAID.get(text);
    const results = RESULTS.exec(text);
    if (results) {
      const [, selected, found] = results;
      const total = found === undefined ? "más de 1 000" : `${count(found)} resultado${found === "1" ? "" : "s"}`;
      return selected === undefined ? total : `${count(selected)} de ${total}`;
    }
    for (const [pattern, said] of BUILT) {
      if (pattern.test(text)) {
        const inner = text.replace(pattern, "$1");
        return said.replace("$1", () => spanish(inner) ?? inner);  // "day, Período start date": both halves
      }
    }
    // A label with its element's name after a colon or comma: "Search: Eventos", "Choose date, diciembre de 2026".
    for (const mark of [": ", ", "]) {
      const at = text.indexOf(mark);
      if (at > 0 && SAID.has(text.slice(0, at))) return SAID.get(text.slice(0, at)) + text.slice(at);
    }
    return undefined;
  };

  const TEXTS = [
    '[data-testid="stSkipToContent"]', '[data-testid="stDialog"] h2', '[data-testid="stDialog"] div',
    '[data-testid="stTooltipContent"] p', '.gdg-search-status label', '[data-testid="search-result-area"]',
    '[data-testid="stDataFrameColumnVisibilityMenu"] span',
    '[data-testid="stDateInputCalendar"] *',  // its heading for screen readers, hidden: "Choose date, diciembre de 2026"
  ].join(", ");
  // Where Streamlit writes its own labels; never the app's content (a branch could be called "Open").
  const LABELS = [
    '[data-testid="stDialog"] button', '[data-testid="stElementToolbar"] button', '.gdg-search-bar button',
    '[data-testid="stDataFrameColumnVisibilityMenu"] input', 'nav[data-testid="stTopNav"]',
    '[data-testid="stHeaderActionElements"] a', '[data-testid="stTooltipHoverTarget"] > button',
    '[data-testid="stMultiSelect"] button', '[data-testid="stMultiSelect"] [role="listbox"]',
    '[data-testid="stSelectbox"] button', '[data-testid="stDateInput"] *', '[data-testid="stDateInputCalendar"] *',
    '[data-testid="stVegaLiteChart"]',
  ].map((where) => `${where}[aria-label]`).join(", ");
  // A Material icon inside text ("science icon" by a badge) is decoration: the words beside it say it all.
  const ICONS = '[data-testid="stMarkdownContainer"] span[aria-label$=" icon"]';
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
    for (const el of document.querySelectorAll(ICONS)) {
      el.removeAttribute("aria-label");
      el.setAttribute("aria-hidden", "true");
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

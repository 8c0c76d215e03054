// The tablet's watchdog: Streamlit runs the page on the server, so only the browser can tell that the
// server stopped answering. Installed once per page load; every run of the live header refreshes the
// data-cucu-datos mark that it reads (a new value means fresh data).
(() => {
  const CONFIG = __CONFIG__;
  const existing = window.cucuWatchdog;
  if (existing) { existing.tick(); return; }

  const doc = document;
  const since = () => performance.now();  // the browser's own monotonic clock: no server clock needed
  let lastMark = null, lastMarkAt = since(), lastHour = "—";
  let healthy = true, healthyPolls = 0, offlineSince = null, markAtOffline = null;

  const style = doc.createElement("style");
  style.textContent = `
    /* stSidebar: the app draws none, but below 768 px Streamlit moves the top navigation into one. */
    body.cucu-sin-conexion [data-testid="stMain"],
    body.cucu-sin-conexion [data-testid="stHeader"],
    body.cucu-sin-conexion [data-testid="stSidebar"] { filter: grayscale(1); opacity: 0.45; }
    [data-testid="stElementContainer"]:has([data-cucu-datos]) { display: none; }
    body.cucu-sin-conexion .cucu-aviso-ingles { display: none !important; }
    #cucu-sin-conexion { display: none; position: fixed; left: 0; right: 0; top: 0; z-index: 1000100;
      padding: 0.9rem 1.25rem; background: #3d3d3d; color: #fff; border-bottom: 6px solid #ff4b4b;
      font: 600 1.1rem/1.4 "Source Sans", "Source Sans Pro", sans-serif; text-align: center; }
    body.cucu-sin-conexion #cucu-sin-conexion { display: block; }`;
  doc.head.appendChild(style);
  // Outside React's tree, so neither a rerun nor a lost session removes it.
  const banner = doc.createElement("div");
  banner.id = "cucu-sin-conexion";
  banner.setAttribute("role", "alert");
  banner.dataset.testid = "cucuSinConexion";
  doc.body.appendChild(banner);

  // Like cucu.formatting.fmt_duration: 40 s, 7 min, 5 h 12 min, 2 d 3 h.
  const duration = (ms) => {
    const s = Math.max(0, Math.floor(ms / 1000));
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d) return `${d} d ${h} h`;
    if (h) return `${h} h ${m} min`;
    if (m) return `${m} min`;
    return `${s % 60} s`;
  };

  // The page's own ages keep counting while it is cut off ("consultados hace 2 min", "vence en 1 h 5 min",
  // "venció hace 3 h"): each such text is kept as the server drew it and shown aged by the time since the last
  // data; once fresh data is drawn, whatever the server did not write again goes back to its own text.
  const UNIT_S = { d: 86400, h: 3600, min: 60, s: 1 };
  const AGE = /(venció hace|hace|vence en) (\d+ (?:d|h|min|s)\b(?: \d+ (?:d|h|min|s)\b)*)/g;
  const aged = (text, ms) => text.replace(AGE, (_, word, amount) => {
    let s = 0;
    for (const [, n, unit] of amount.matchAll(/(\d+) (d|h|min|s)\b/g)) s += Number(n) * UNIT_S[unit];
    const past = (word === "vence en" ? -s : s) * 1000 + ms;  // from the event (or deadline) to now
    if (word === "hace") return `hace ${duration(past)}`;
    return past < 0 ? `vence en ${duration(-past)}` : `venció hace ${duration(past)}`;
  });
  const drawn = new Map();  // text node -> [the server's text, the text shown here]
  const ageTexts = () => {
    const main = doc.querySelector('[data-testid="stMain"]');
    if (!main) return;
    const walker = doc.createTreeWalker(main, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      let texts = drawn.get(node);
      if (!texts || node.nodeValue !== texts[1]) {  // not seen yet, or written by the server since
        if (!/(hace|vence en) \d/.test(node.nodeValue)) continue;
        texts = [node.nodeValue, node.nodeValue];
        drawn.set(node, texts);
      }
      texts[1] = aged(texts[0], since() - lastMarkAt);
      if (node.nodeValue !== texts[1]) node.nodeValue = texts[1];
    }
  };
  const restoreTexts = () => {
    for (const [node, [server, shown]] of drawn) if (node.nodeValue === shown) node.nodeValue = server;
    drawn.clear();
  };

  const readMark = () => {
    const marks = doc.querySelectorAll("[data-cucu-datos]");
    const mark = marks[marks.length - 1];
    if (mark && mark.dataset.cucuCorrida !== lastMark) {
      lastMark = mark.dataset.cucuCorrida;
      lastHour = mark.dataset.cucuDatos;
      lastMarkAt = since();
    }
  };

  const streamlitDown = () => {
    const app = doc.querySelector('[data-testid="stApp"]');
    const state = app && app.getAttribute("data-test-connection-state");
    return ["PINGING_SERVER", "DISCONNECTED_FOREVER"].includes(state);
  };

  // Streamlit's own English "Connection error" dialog: the banner says it in Spanish. Hidden with its
  // modal layer (Streamlit 1.67's stDialog overlay, the backdrop), which would tint the grey page.
  const hideEnglishDialog = () => {
    doc.querySelectorAll('[role="dialog"]').forEach((dialog) => {
      if (/^\s*Connection error/.test(dialog.textContent || "")) {
        const layer = dialog.closest('[data-testid="stDialog"]') || dialog;
        layer.classList.add("cucu-aviso-ingles");
      }
    });
  };

  const tick = () => {
    readMark();
    const offline = !healthy || streamlitDown();
    if (offline && offlineSince === null) { offlineSince = since(); markAtOffline = lastMark; }
    if (!offline && offlineSince !== null && lastMark !== markAtOffline) {
      // A page that runs for days (Pantalla marks itself) starts afresh once the server is back: Streamlit's
      // client kept about 1 MB more of each session it reconnected (benchmarks.kiosk), a wall sees many.
      if (doc.querySelector("[data-cucu-recargar]")) { window.location.reload(); return; }
      offlineSince = null;
      restoreTexts();
    }
    const shown = offlineSince !== null;
    doc.body.classList.toggle("cucu-sin-conexion", shown);
    if (shown) {
      hideEnglishDialog();
      banner.textContent = `Sin conexión con el servidor del tablero: lo que ve no está al día. ` +
        `Datos de las ${lastHour} (hace ${duration(since() - lastMarkAt)}). ` +
        `La página se actualiza sola cuando el servidor vuelva.`;
      ageTexts();
    }
  };

  const poll = async () => {
    let ok = false;
    try {
      const r = await fetch(CONFIG.health, { cache: "no-store", signal: AbortSignal.timeout(CONFIG.timeoutMs) });
      ok = r.ok && (await r.text()).trim() === "ok";  // not a proxy's error or sign-in page
    } catch (e) { ok = false; }
    healthy = ok;
    healthyPolls = ok ? healthyPolls + 1 : 0;
    // The server answers again but no fresh data came (Streamlit gave up reconnecting, or its new
    // session did not rerun the page): load the page again.
    // A live header reruns every few seconds while Streamlit is connected, so wait longer then.
    const polls = streamlitDown() ? CONFIG.reloadAfterPolls : CONFIG.reloadConnectedAfterPolls;
    if (offlineSince !== null && healthyPolls >= polls && lastMark === markAtOffline) {
      window.location.reload();
    }
    tick();
  };

  window.cucuWatchdog = { tick, aged };
  setInterval(tick, 1000);
  setInterval(poll, CONFIG.pollMs);
  tick();
})();

// What "add to home screen" reads from the page's head, which Streamlit's fixed index.html does not have:
// the web-app manifest (name, icons, full screen; static/manifest.webmanifest, served by Streamlit's static
// serving under the app's path), the icon and title iOS takes, and the page's language (Spanish: a screen
// reader otherwise reads it with an English voice). Installed once per page load.
(() => {
  if (window.cucuInstalable) return;
  window.cucuInstalable = true;
  document.documentElement.lang = "es-BO";
  // Relative to the page: every page of the dashboard is one level under the app's path (/contingencia/eventos).
  const base = new URL("./app/static/", location.origin + location.pathname).href;
  const add = (tag, attributes) => {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
    document.head.appendChild(el);
  };
  // With the page's credentials: Chromium fetches a manifest without them by default, and behind the basic-auth
  // site (/contingencia/app/static/ needs the password) it got a 401 and installed no name and no icon.
  add("link", { rel: "manifest", href: `${base}manifest.webmanifest`, crossorigin: "use-credentials" });
  add("link", { rel: "apple-touch-icon", href: `${base}apple-touch-icon.png` });
  add("meta", { name: "apple-mobile-web-app-capable", content: "yes" });
  add("meta", { name: "mobile-web-app-capable", content: "yes" });
  add("meta", { name: "apple-mobile-web-app-title", content: "Contingencia" });
  add("meta", { name: "theme-color", content: "#0F5A9C" });
})();

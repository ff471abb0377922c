// The platform's look, from the session (GetPortalSession's theme; the server validated it when the session was
// made): accent colour, logo, title, light or dark. Applied only through style properties, attributes and text,
// never as markup or a style sheet, and each value is checked again here before it is used.

const DEFAULT_TITLE = "Webhooks";
const HEX = /^#[0-9a-fA-F]{6}$/;
/** An https URL, or a data: URL of an image (the CSP's img-src allows exactly these and our own files). */
const LOGO = /^(https:\/\/|data:image\/(png|jpeg|gif|webp|svg\+xml);base64,)/;

/** Black or white, whichever reads better on the colour (WCAG relative luminance). @param {string} hex */
export function foregroundOn(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const lum = 0.2126 * /** @type {number} */ (r) + 0.7152 * /** @type {number} */ (g) + 0.0722 * /** @type {number} */ (b);
  // Contrast with white is (1.05)/(lum+0.05), with black (lum+0.05)/0.05: pick the larger.
  return 1.05 / (lum + 0.05) >= (lum + 0.05) / 0.05 ? "#ffffff" : "#000000";
}

/**
 * @param {{ accentColor?: string, logoUrl?: string, colorScheme?: string, title?: string } | undefined} theme
 * @param {{ title: HTMLElement, logo: HTMLImageElement }} els
 */
export function applyTheme(theme, els) {
  const t = theme ?? {};
  const root = document.documentElement;
  if (t.accentColor && HEX.test(t.accentColor)) {
    root.style.setProperty("--accent", t.accentColor);
    root.style.setProperty("--accent-fg", foregroundOn(t.accentColor));
  }
  const scheme = t.colorScheme === "PORTAL_COLOR_SCHEME_DARK" ? "dark" : t.colorScheme === "PORTAL_COLOR_SCHEME_LIGHT" ? "light" : "auto";
  root.dataset.scheme = scheme;
  const title = typeof t.title === "string" && t.title.trim() ? t.title.trim().slice(0, 100) : DEFAULT_TITLE;
  els.title.textContent = title;
  document.title = title;
  if (t.logoUrl && LOGO.test(t.logoUrl)) {
    els.logo.src = t.logoUrl;
    // The title beside it names the site: the logo adds nothing for a screen reader.
    els.logo.alt = "";
    els.logo.hidden = false;
  } else {
    els.logo.removeAttribute("src");
    els.logo.hidden = true;
  }
}

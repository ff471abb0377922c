// Building the page from data without ever parsing data as HTML: elements are made with createElement and
// text goes in as text nodes, so whatever a payload, URL or error holds is shown, never run. (The CSP's
// Trusted Types rule makes the browser refuse innerHTML strings outright.)

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 * @typedef {Child | Child[] | Child[][] | Child[][][]} Children
 * @typedef {Record<string, string | number | boolean | undefined | null | ((e: Event) => void)>} Attrs
 */

/**
 * h("a", { href: "#/x", class: "c", onclick: fn }, "text", child…). Attributes named on… become listeners;
 * false, null and undefined attributes and children are left out.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag @param {Attrs} [attrs] @param {...Children} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "href" && !String(value).startsWith("#")) throw new Error("links stay inside the page");
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** @param {Node} el @param {Children[]} children */
export function append(el, children) {
  for (const c of /** @type {Child[]} */ (children.flat(Infinity))) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces an element's content. @param {Element} el @param {...Children} children */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * Runs `work` with `button` busy: marked aria-disabled and ignored until the work ends, but still focused (a
 * disabled button would drop the keyboard's focus to the page). Answers false, doing nothing, when it is busy already.
 * @param {HTMLButtonElement} button @param {() => Promise<void>} work
 */
export async function busy(button, work) {
  if (button.getAttribute("aria-disabled") === "true") return false;
  button.setAttribute("aria-disabled", "true");
  try {
    await work();
  } finally {
    button.removeAttribute("aria-disabled");
  }
  return true;
}

/** A link inside the console, its path segments encoded. @param {string[]} segments */
export function route(...segments) {
  return "#/" + segments.map(encodeURIComponent).join("/");
}

const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");

/** A protobuf JSON timestamp as local "YYYY-MM-DD HH:MM:SS"; "" when unset. @param {string | undefined} iso */
export function time(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A <time> element with the exact instant on hover. @param {string | undefined} iso */
export function timeEl(iso) {
  return iso ? h("time", { datetime: iso, title: iso }, time(iso)) : h("span", { class: "muted" }, "—");
}

/** int64 fields arrive as strings in protobuf JSON, and are left out when zero. @param {unknown} v */
export function num(v) {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/** @param {unknown} ms */
export function duration(ms) {
  const n = num(ms);
  return n < 1000 ? `${n} ms` : `${(n / 1000).toFixed(n < 10_000 ? 2 : 1)} s`;
}

// The customer portal's shell: the session (its token from the URL's fragment, kept for the tab), the platform's
// theme, the header, a status line and a hash router (#/ the endpoints, #/new, #/endpoints/<id>,
// #/endpoints/<id>/edit). Each page is a function that fills the view and answers its clean-up, run when the page
// is left. Every call carries the session's token; the server answers only for the session's owner, and this page
// offers nothing beyond that owner's endpoints (no Trigger, no catalog changes, nothing of the tenant).
import { h, replace } from "./dom.js";
import { LiveDeliveries } from "./live.js";
import { call, RpcError } from "./rpc.js";
import { tabValue } from "./session.js";
import { applyTheme } from "./theme.js";
import { endpointsPage } from "./view-endpoints.js";
import { endpointPage } from "./view-endpoint.js";
import { endpointFormPage } from "./endpoint-form.js";

/**
 * What every page gets: calls with the session's token, a status message, the one live stream, the catalog (read
 * once), and a secret handed from the page that made it to the page that shows it once.
 * @typedef {import("./rpc.js").Api & {
 *   live: LiveDeliveries,
 *   catalog: () => Promise<any[]>,
 *   handOver: (id: string, secret: string, rotated: boolean) => void,
 *   takeSecret: (id: string) => { secret: string, rotated: boolean } | undefined,
 * }} Ctx
 */

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const view = $("view");
const notice = $("notice");
const liveEl = $("live");
const expiresEl = $("expires");
const themeEls = { title: $("title"), logo: /** @type {HTMLImageElement} */ ($("logo")) };

const token = tabValue("hookwire.portal.token");

// The session's url is <base>/portal#token=hwp_…: take the token, keep it for the tab (a reload works), and take
// it out of the address bar (and so out of history, bookmarks and screenshots).
const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
if (/^#(?:[^/].*&)?token=/.test(location.hash)) {
  token.set(fragment.get("token") ?? "");
  history.replaceState(null, "", location.pathname + location.search);
}

let ended = false;
/** @type {() => void} */
let cleanup = () => undefined;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let expiryTimer;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let noticeTimer;

const live = new LiveDeliveries(() => end());

/** @type {Promise<any[]> | undefined} */
let catalogRead;
/** @type {{ id: string, secret: string, rotated: boolean } | undefined} */
let handedOver;

/** @type {Ctx} */
const ctx = {
  async call(method, req, signal) {
    if (ended) throw new RpcError("unauthenticated", "this session has ended");
    try {
      return await call(token.get(), method, req, signal);
    } catch (err) {
      if (err instanceof RpcError && err.code === "unauthenticated") end();
      throw err;
    }
  },
  notify(text) {
    // Cleared first, so the same message said twice is announced twice; gone after a while (it was said).
    notice.textContent = "";
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => {
      notice.textContent = text;
      noticeTimer = setTimeout(() => (notice.textContent = ""), 10_000);
    }, 50);
  },
  live,
  catalog() {
    catalogRead ??= readCatalog().catch((err) => {
      catalogRead = undefined;
      throw err;
    });
    return catalogRead;
  },
  handOver(id, secret, rotated) {
    handedOver = { id, secret, rotated };
  },
  takeSecret(id) {
    const s = handedOver?.id === id ? handedOver : undefined;
    handedOver = undefined;
    return s;
  },
};

/** The catalog's event types a customer may subscribe to (Hookwire's own operational events are the platform's). */
async function readCatalog() {
  /** @type {any[]} */
  const out = [];
  let pageToken = "";
  do {
    const res = await ctx.call("ListEventTypes", { pageSize: 100, pageToken });
    out.push(...(res.eventTypes ?? []).filter((/** @type {any} */ e) => !e.builtin));
    pageToken = res.nextPageToken ?? "";
  } while (pageToken && out.length < 10_000);
  return out;
}

/** Where the user came from, to say where to open the portal again: the framing site, else the referrer. */
function platformName() {
  try {
    const framer = location.ancestorOrigins?.[0];
    if (framer) return new URL(framer).host;
    if (document.referrer) {
      const from = new URL(document.referrer);
      if (from.origin !== location.origin) return from.host;
    }
  } catch {
    // no usable origin
  }
  return "";
}

/** The session is over (expired, revoked, or never there): say so, and how to get a new one. */
function end(why = "ended") {
  if (ended) return;
  ended = true;
  token.clear();
  live.stop();
  clearTimeout(expiryTimer);
  cleanup();
  cleanup = () => undefined;
  liveEl.hidden = true;
  expiresEl.hidden = true;
  notice.textContent = "";
  const from = platformName();
  const heading = h("h1", { tabindex: "-1" }, why === "missing" ? "No portal session" : "This session has ended");
  replace(
    view,
    h(
      "section",
      { class: "ended", "data-state": why },
      heading,
      h(
        "p",
        {},
        why === "missing" ? "This page opens with a link that carries its session. " : "For your security, a portal session lasts a limited time and can be ended by the site that opened it. ",
        "Open the portal again from ",
        from ? h("strong", { class: "platform" }, from) : "the site that opened it",
        " (usually its webhook or developer settings).",
      ),
    ),
  );
  document.body.dataset.state = "ended";
  heading.focus();
}

function showLive() {
  const labels = { live: "● live", connecting: "○ connecting", reconnecting: "○ reconnecting", stopped: "" };
  liveEl.textContent = labels[live.state];
  liveEl.className = `live ${live.state}`;
  liveEl.dataset.state = live.state;
  liveEl.title = live.state === "live" ? "Delivery outcomes appear as they happen" : live.detail;
  liveEl.hidden = ended || live.state === "stopped";
}
live.onState(showLive);

function render() {
  if (ended) return;
  cleanup();
  cleanup = () => undefined;
  const [page = "", id = "", sub = ""] = location.hash.replace(/^#\/?/, "").split("/").map((s) => decodeURIComponent(s));
  if (page === "new") cleanup = endpointFormPage(ctx, view, undefined);
  else if (page === "endpoints" && id && sub === "edit") cleanup = endpointFormPage(ctx, view, id);
  else if (page === "endpoints" && id) cleanup = endpointPage(ctx, view, id);
  else cleanup = endpointsPage(ctx, view);
  // A new page: its heading takes the focus, so a screen reader says where the user is.
  if (rendered++) view.querySelector("h1")?.focus();
}
let rendered = 0;

/** @param {string | undefined} iso */
function watchExpiry(iso) {
  const at = iso ? new Date(iso) : undefined;
  if (!at || Number.isNaN(at.getTime())) return;
  expiresEl.textContent = `Session until ${at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
  expiresEl.title = at.toISOString();
  expiresEl.hidden = false;
  // At most a day: within setTimeout's range.
  expiryTimer = setTimeout(() => end("expired"), Math.max(0, at.getTime() - Date.now()));
}

async function start() {
  if (!token.get()) {
    applyTheme(undefined, themeEls);
    end("missing");
    return;
  }
  try {
    const session = await ctx.call("GetPortalSession", {});
    applyTheme(session.theme, themeEls);
    watchExpiry(session.expiresAt);
  } catch {
    if (ended) return;
    // The theme is only the look: without it (an older server, say) the portal still works, in its own colours.
    applyTheme(undefined, themeEls);
  }
  if (ended) return;
  live.start(token.get());
  window.addEventListener("hashchange", render);
  render();
  document.body.dataset.state = "ready";
}

void start();

// The console's shell: sign-in, the header, a notice banner and a hash router (#/subscriptions,
// #/subscriptions/<id>, #/messages/<id>[/<delivery id>], #/failed, #/tail, #/event-types). Each page is a function that fills the view and
// answers its clean-up, run when the page is left.
import { h, replace } from "./dom.js";
import { errorBox } from "./errors.js";
import { LiveDeliveries } from "./live.js";
import { call, RpcError } from "./rpc.js";
import { currentKey, keyHint, signIn, signOut } from "./session.js";
import { subscriptionPage, subscriptionsPage } from "./view-subscriptions.js";
import { failedPage, messagePage } from "./view-messages.js";
import { tailPage } from "./view-tail.js";
import { eventTypesPage } from "./view-event-types.js";

/**
 * @typedef {{ call: (method: string, req: object, signal?: AbortSignal) => Promise<any>, notify: (text: string) => void,
 *             live: LiveDeliveries }} Ctx
 */

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const view = $("view");
const banner = $("banner");
const nav = $("nav");
const liveEl = $("live");
const whoami = $("whoami");
const signOutButton = $("sign-out");

/** Set when a call was refused: the sign-in page says why. */
let refusedBecause = "";

const live = new LiveDeliveries((err) => refused(err));

/** @type {Ctx} */
const ctx = {
  async call(method, req, signal) {
    try {
      return await call(currentKey(), method, req, signal);
    } catch (err) {
      if (err instanceof RpcError && err.code === "unauthenticated") refused(err);
      throw err;
    }
  },
  notify(text) {
    replace(banner, text);
    banner.hidden = false;
    banner.className = "banner notice";
  },
  live,
};

/** The key stopped working (or never did): back to the sign-in page, saying why. @param {RpcError} err */
function refused(err) {
  refusedBecause = `The server refused the key: ${err.message}. Sign in again.`;
  leave();
}

function leave() {
  signOut();
  live.stop();
  if (location.hash !== "#/signin") location.hash = "#/signin";
  else render();
}

/** @param {HTMLElement} el */
function signInPage(el) {
  const key = h("input", { type: "password", name: "key", autocomplete: "off", required: true, placeholder: "API key", "aria-label": "API key", spellcheck: "false" });
  const submit = h("button", { type: "submit" }, "Sign in");
  const status = h("div", {});
  if (refusedBecause) replace(status, h("div", { class: "error", role: "alert", "data-code": "unauthenticated" }, refusedBecause));
  const form = h(
    "form",
    { class: "signin" },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "With one of the server's API keys (HOOKWIRE_API_KEYS). The console shows that key's tenant only; the key stays in this tab (sessionStorage) until you sign out or close it."),
    key,
    submit,
    status,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    submit.disabled = true;
    replace(status, "Checking…");
    try {
      // Any call checks the key; this one is the cheapest that needs it.
      await call(key.value.trim(), "ListSubscriptions", { pageSize: 1 });
      signIn(key.value.trim());
      refusedBecause = "";
      live.start(currentKey());
      location.hash = "#/subscriptions";
    } catch (err) {
      replace(status, err instanceof RpcError && err.code === "unauthenticated" ? h("div", { class: "error", role: "alert", "data-code": "unauthenticated" }, `That key was refused: ${err.message}.`) : errorBox(err));
    } finally {
      submit.disabled = false;
    }
  });
  replace(el, form);
  key.focus();
  return () => undefined;
}

function showLive() {
  const labels = { live: "● live", connecting: "○ connecting", reconnecting: "○ reconnecting", stopped: "" };
  liveEl.textContent = labels[live.state];
  liveEl.className = `live ${live.state}`;
  liveEl.title = live.detail;
  liveEl.hidden = live.state === "stopped";
}
live.onState(showLive);

/** @type {() => void} */
let cleanup = () => undefined;

function render() {
  cleanup();
  cleanup = () => undefined;
  banner.hidden = true;
  const [page = "", id = "", sub = ""] = location.hash.replace(/^#\/?/, "").split("/").map((s) => decodeURIComponent(s));
  const key = currentKey();
  const signedIn = key !== "";
  nav.hidden = !signedIn;
  signOutButton.hidden = !signedIn;
  whoami.hidden = !signedIn;
  whoami.textContent = signedIn ? `key ${keyHint(key)}` : "";
  for (const a of nav.querySelectorAll("a")) a.classList.toggle("current", a.dataset.nav === page);
  if (!signedIn) {
    cleanup = signInPage(view);
    return;
  }
  if (live.state === "stopped") live.start(key);
  if (page === "subscriptions" && id) cleanup = subscriptionPage(ctx, view, id);
  else if (page === "messages" && id) cleanup = messagePage(ctx, view, id, sub || undefined);
  else if (page === "failed") cleanup = failedPage(ctx, view);
  else if (page === "tail") cleanup = tailPage(ctx, view);
  else if (page === "event-types") cleanup = eventTypesPage(ctx, view);
  else cleanup = subscriptionsPage(ctx, view);
}

signOutButton.addEventListener("click", () => {
  refusedBecause = "";
  leave();
});
$("find-message").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = /** @type {HTMLInputElement} */ (/** @type {HTMLFormElement} */ (e.currentTarget).elements.namedItem("id"));
  const id = input.value.trim();
  if (id) location.hash = `#/messages/${encodeURIComponent(id)}`;
  input.value = "";
});
window.addEventListener("hashchange", render);
render();

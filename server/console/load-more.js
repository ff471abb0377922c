// A list read one page at a time behind a "Load more" button (the subscription and event type pages; the
// delivery lists, which also reload in place, page in deliveries.js).
import { h, replace } from "./dom.js";
import { errorBox } from "./errors.js";

/**
 * `fetchPage(pageToken)` reads a page, shows its items, and answers the next page's token (empty on the
 * last) and what `status` says then. `load()` reads the next page; `restart()` reads from the first again.
 * @param {HTMLElement} status
 * @param {(pageToken: string) => Promise<{ next: string, note?: import("./dom.js").Children }>} fetchPage
 */
export function loadMore(status, fetchPage) {
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more");
  let token = "";
  async function load() {
    more.disabled = true;
    try {
      const page = await fetchPage(token);
      token = page.next;
      more.hidden = !token;
      replace(status, page.note ?? "");
    } catch (err) {
      replace(status, errorBox(err));
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener("click", () => void load());
  return {
    more,
    load,
    restart() {
      token = "";
      return load();
    },
  };
}

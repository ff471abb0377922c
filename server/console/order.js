// The order the console's lists show, by creation time: newest first unless the operator chooses oldest first.
// One choice for every list (deliveries, their attempts, subscriptions), kept for the tab like the key; the
// server does the ordering (ListOrder on the List RPCs), so "Load more" goes on in the order shown.
import { h } from "./dom.js";
import { tabValue } from "./session.js";

const stored = tabValue("hookwire.console.order");

/** @returns {"newest" | "oldest"} */
export function listOrder() {
  return stored.get() === "oldest" ? "oldest" : "newest";
}

/** The request field for the List RPCs. */
export function orderField() {
  return { order: listOrder() === "oldest" ? "LIST_ORDER_OLDEST_FIRST" : "LIST_ORDER_NEWEST_FIRST" };
}

/**
 * The control: choosing saves the choice and calls `onChange` (the list reloads from its first page).
 * @param {() => void} onChange
 */
export function orderSelect(onChange) {
  const select = h(
    "select",
    { name: "order", "aria-label": "Order", class: "order" },
    h("option", { value: "newest" }, "Newest first"),
    h("option", { value: "oldest" }, "Oldest first"),
  );
  /** @type {HTMLSelectElement} */ (select).value = listOrder();
  select.addEventListener("change", () => {
    const value = /** @type {HTMLSelectElement} */ (select).value;
    // The default is kept as nothing at all: the tab then holds only what it must (the key).
    if (value === "oldest") stored.set(value);
    else stored.clear();
    onChange();
  });
  return h("label", { class: "list-order" }, "Order ", select);
}

/** What deliveryList (deliveries.js) takes to show a list, and its deliveries' attempts, in this order. */
export const ORDERED = { control: orderSelect, newestFirst: () => listOrder() === "newest" };

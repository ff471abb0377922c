// A signing secret, shown once (after Register, or after RotateSecret) with a button that copies it. The page
// keeps it nowhere else: leaving the page drops it.
import { h, replace } from "./dom.js";

let counter = 0;

/** @param {{ secret: string, heading: string, note: string }} opts */
export function secretPanel({ secret, heading, note }) {
  const id = `secret-${++counter}`;
  const value = h("code", { class: "secret-value", id: `${id}-value` }, secret);
  const status = h("p", { class: "copy-status", role: "status", "aria-live": "polite" });
  const copy = h("button", { type: "button", class: "copy", "aria-describedby": `${id}-value` }, "Copy secret");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(secret);
      replace(status, "Copied to the clipboard.");
      status.dataset.copied = "true";
    } catch {
      // The browser refused the clipboard (an iframe without clipboard-write, say): select it for Ctrl+C instead.
      const range = document.createRange();
      range.selectNodeContents(value);
      const sel = window.getSelection();
      sel?.removeAllRanges();
      sel?.addRange(range);
      replace(status, "This page may not write to the clipboard: the secret is selected, copy it with Ctrl+C (⌘C on a Mac).");
      status.dataset.copied = "false";
    }
  });
  return h(
    "section",
    { class: "secret-panel", "aria-labelledby": `${id}-heading` },
    h("h2", { id: `${id}-heading`, tabindex: "-1" }, heading),
    h("p", {}, note),
    h("div", { class: "secret-row" }, value, copy),
    status,
  );
}

// A confirmation in a modal <dialog>: the browser keeps focus inside it and Escape cancels; on closing, focus goes
// back to what had it before (the button that asked).
import { h } from "./dom.js";

let counter = 0;

/**
 * Answers true when the user confirms. The safe choice (Cancel) has the focus first.
 * @param {{ title: string, text: import("./dom.js").Children, confirm: string, danger?: boolean }} opts
 * @returns {Promise<boolean>}
 */
export function confirmDialog({ title, text, confirm, danger = false }) {
  const id = `dialog-${++counter}`;
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
  const cancel = h("button", { type: "button", class: "secondary", autofocus: true }, "Cancel");
  const ok = h("button", { type: "button", class: danger ? "danger" : "" }, confirm);
  const dialog = h(
    "dialog",
    { class: "confirm", "aria-labelledby": `${id}-title`, "aria-describedby": `${id}-text` },
    h("h2", { id: `${id}-title` }, title),
    h("div", { id: `${id}-text` }, text),
    h("div", { class: "actions" }, cancel, ok),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    let answer = false;
    cancel.addEventListener("click", () => dialog.close());
    ok.addEventListener("click", () => {
      answer = true;
      dialog.close();
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener?.isConnected) opener.focus();
      resolve(answer);
    });
    dialog.showModal();
    cancel.focus();
  });
}

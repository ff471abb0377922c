// How a failed call is shown: the server's own message, with its code, never a bare "failed".
import { h } from "./dom.js";
import { RpcError } from "./rpc.js";

const HINTS = /** @type {Record<string, string>} */ ({
  unimplemented: "This server does not offer that yet (it may be older than the console).",
  unavailable: "The server or its database cannot be reached; try again.",
  not_found: "Nothing with that id here.",
});

/** @param {unknown} err */
export function errorText(err) {
  if (err instanceof RpcError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/** @param {unknown} err */
export function errorBox(err) {
  const hint = err instanceof RpcError ? HINTS[err.code] : undefined;
  return h("div", { class: "error", role: "alert", "data-code": err instanceof RpcError ? err.code : "client" }, h("strong", {}, errorText(err)), hint && h("div", { class: "hint" }, hint));
}

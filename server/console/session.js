// The signed-in API key. sessionStorage: it lasts while the tab does and is not shared with other tabs or
// kept on disk after the browser closes; nothing else of the key is stored, and no cookie exists.
const STORAGE = "hookwire.console.apiKey";

export function currentKey() {
  try {
    return sessionStorage.getItem(STORAGE) ?? "";
  } catch {
    return "";
  }
}

/** @param {string} key */
export function signIn(key) {
  sessionStorage.setItem(STORAGE, key);
}

export function signOut() {
  sessionStorage.removeItem(STORAGE);
}

/** The key as shown in the header: enough to tell keys apart, not enough to use. @param {string} key */
export function keyHint(key) {
  return key.length > 8 ? `${key.slice(0, 4)}…${key.slice(-4)}` : "••••";
}

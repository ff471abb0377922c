// A credential kept for the tab: the console's API key, the portal's session token. sessionStorage lasts while
// the tab does and is not shared with other tabs or kept on disk after the browser closes; nothing else of it is
// stored, and no cookie exists. Where sessionStorage is refused (a frame whose storage the browser blocks), the
// value lasts as long as the page.

/** @param {string} name */
export function tabValue(name) {
  let memory = "";
  return {
    get() {
      try {
        return sessionStorage.getItem(name) ?? memory;
      } catch {
        return memory;
      }
    },
    /** @param {string} value */
    set(value) {
      memory = value;
      try {
        sessionStorage.setItem(name, value);
      } catch {
        // kept in memory only
      }
    },
    clear() {
      memory = "";
      try {
        sessionStorage.removeItem(name);
      } catch {
        // nothing stored
      }
    },
  };
}

const apiKey = tabValue("hookwire.console.apiKey");

/** The console's signed-in API key; "" when signed out. */
export function currentKey() {
  return apiKey.get();
}

/** @param {string} key */
export function signIn(key) {
  apiKey.set(key);
}

export function signOut() {
  apiKey.clear();
}

/** The key as shown in the header: enough to tell keys apart, not enough to use. @param {string} key */
export function keyHint(key) {
  return key.length > 8 ? `${key.slice(0, 4)}…${key.slice(-4)}` : "••••";
}

// A module resolve hook: resolves every import with the `hookwire-source` export condition, which maps
// @hookwire/sdk to its TypeScript sources in this repository (what `--conditions=hookwire-source` does).
export async function resolve(specifier, context, nextResolve) {
  return nextResolve(specifier, { ...context, conditions: [...context.conditions, "hookwire-source"] });
}

// @hookwire/sdk/internal: what this repository's server, CLI, tests and benches share with the SDK without
// it being the SDK's API: the synchronous signatures on node:crypto (the server signs every delivery with
// them), the signature rules' constants, and the payload conversion. The export condition that names it is
// `hookwire-source` alone, and sdk/tsconfig.json leaves it out of dist/, so the published package has no
// such entry: an app that imports it fails to resolve it.
export { checkGithub, checkStandard, generateSecret, signGithub, signStandard, standardWebhooksKey, verifyGithub, verifyStandard } from "./node/signature.js";
export { SECRET_PREFIX, SignatureInputError, type Body, type StandardVerifyInput } from "./rules/signature.js";
export { PayloadError, valueFromJson, valueFromJsonText, valueToJsonText, type PayloadLimits } from "./payload.js";

/**
 * What a definition's hooks, actions and built-in records receive: the app's services.
 *
 * Declared here, empty, and filled in by src/services/index.ts (TypeScript declaration merging, the
 * way Fastify types its decorators), so the kit and the definitions get the real type without
 * importing the layer above them: dependencies point one way (services -> kit/definitions), and
 * go-to-definition on `h.services.billing` ends at the Billing class.
 */
// biome-ignore lint/suspicious/noEmptyInterface: an interface, not a type, so that src/services/index.ts can merge its members in
export interface AppServices {}

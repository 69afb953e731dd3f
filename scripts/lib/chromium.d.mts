// Types of chromium.mjs (plain JavaScript: scripts/test.mjs runs it before anything is compiled).
export declare const DEFAULT_CHROMIUM: string;
export declare function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined;
export interface ChromiumOptions {
  env?: NodeJS.ProcessEnv;
  root?: boolean;
  target?: string;
}
export type ChromiumPlan =
  | { action: 'ok'; target: string }
  | { action: 'install'; target: string; aptGet: string }
  | { action: 'stop'; target: string; message: string };
export declare function chromiumPlan(opts?: ChromiumOptions): ChromiumPlan;
export declare function ensureChromium(opts?: ChromiumOptions, log?: (s: string) => void): string | undefined;

// Minimal types for js-yaml (present through mocha; no @types package installed).
declare module "js-yaml" {
  export function load(text: string): unknown;
}

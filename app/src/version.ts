/** The app's version; kept equal to app/package.json's `version` (a unit test checks it). */
export const APP_VERSION = "0.1.0";

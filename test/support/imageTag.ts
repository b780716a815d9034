// The image tag is content-addressed (`src-<12 hex>` of the build's inputs, infra/contextHash.ts), so
// tests match its shape rather than a value that changes with every edit of app/.
export const CONTENT_TAG = /^src-[0-9a-f]{12}$/;

/** `<repository>:src-<hash>`, the repository as given. */
export function contentTagged(repository: string): RegExp {
  return new RegExp(`^${repository.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:src-[0-9a-f]{12}$`);
}

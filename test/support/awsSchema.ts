/**
 * Whether an AWS resource type accepts `tags`, read from @pulumi/aws's own declarations (so the
 * tag test covers exactly the taggable resources, not a hand-kept list).
 */
import * as fs from "fs";
import * as path from "path";

const AWS_DIR = path.dirname(require.resolve("@pulumi/aws/package.json"));

export function acceptsTags(type: string): boolean {
  const m = /^aws:([a-zA-Z0-9]+)\/([a-zA-Z0-9]+):([A-Za-z0-9]+)$/.exec(type);
  if (!m) throw new Error(`not an AWS resource type: ${type}`);
  const [, mod, file, cls] = m;
  const dts = fs.readFileSync(path.join(AWS_DIR, mod === "index" ? "" : mod, `${file}.d.ts`), "utf8");
  const start = dts.indexOf(`export interface ${cls}Args {`);
  if (start < 0) throw new Error(`no ${cls}Args in @pulumi/aws ${mod}/${file}.d.ts`);
  const body = dts.slice(start, dts.indexOf("\n}", start));
  return /^ {4}tags\?: /m.test(body);
}

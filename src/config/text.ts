// Config as text: the resolved config as YAML (what a run folder stores and `bie config --print` shows) and the
// key reference shown by `--help`, both generated from the schema's descriptions.
import YAML, { isMap, isScalar, isSeq, type Pair, type YAMLMap } from "yaml";
import type { Config } from "./schema.ts";
import { allKeys, nodeAt, schemaTree, typeLabel, type JsonNode } from "./keys.ts";

/** YAML of a resolved config; with `comments`, each key carries its schema description. */
export function configToYaml(cfg: Config, opts: { comments?: boolean } = {}): string {
  const doc = new YAML.Document(JSON.parse(JSON.stringify(cfg)));
  // Short lists read best inline: image_size: [64, 64].
  YAML.visit(doc, { Seq: (_, seq) => void (seq.flow = true) });
  if (opts.comments) annotate(doc.contents as YAMLMap, "");
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

function annotate(map: YAMLMap, prefix: string): void {
  for (const item of map.items as Pair[]) {
    if (!isScalar(item.key)) continue;
    const path = prefix ? `${prefix}.${item.key.value}` : String(item.key.value);
    const desc = nodeAt(path)?.description;
    if (isMap(item.value)) {
      if (desc) item.key.commentBefore = ` ${desc}`;
      item.value.flow = false;
      annotate(item.value, path);
    } else if (desc && (isScalar(item.value) || isSeq(item.value))) {
      item.value.comment = ` ${desc}`;
    }
  }
}

const fmtDefault = (v: unknown): string => (v === undefined ? "" : JSON.stringify(v).replace(/,/g, ", "));

/** Reference of every key: dotted name, type, default and description; a section's own keys before its subsections. */
export function configHelp(): string {
  const leaves = allKeys().filter((k) => !k.node.properties);
  const width = Math.max(...leaves.map((r) => r.path.length)) + 2;
  const lines = ["Config keys (set in --config FILE or as key=value; nested keys are dotted):"];
  const walk = (node: JsonNode, prefix: string) => {
    const entries = Object.entries(node.properties ?? {});
    if (prefix) lines.push("", `${prefix}: ${node.description ?? ""}`);
    for (const [k, child] of entries) {
      if (child.properties) continue;
      const path = prefix ? `${prefix}.${k}` : k;
      const def = child.default !== undefined ? `  [default ${fmtDefault(child.default)}]` : "";
      lines.push(`  ${path.padEnd(width)}${typeLabel(child)}${def}  ${child.description ?? ""}`.trimEnd());
    }
    for (const [k, child] of entries) if (child.properties) walk(child, prefix ? `${prefix}.${k}` : k);
  };
  walk(schemaTree(), "");
  return lines.join("\n") + "\n";
}

// The config schema seen as a tree of dotted keys (via its JSON Schema), so that key checks, "did you mean"
// suggestions and help text all read the same zod schema instead of a hand-kept list.
import { z } from "zod";
import { configSchema } from "./schema.ts";
import { editDistance as levenshtein } from "../nearest.ts";

export { levenshtein };

export interface JsonNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  anyOf?: JsonNode[];
  prefixItems?: JsonNode[];
  properties?: Record<string, JsonNode>;
  exclusiveMinimum?: number;
  minimum?: number;
  maximum?: number;
}

let cached: JsonNode | undefined;
export function schemaTree(): JsonNode {
  cached ??= z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as JsonNode;
  return cached;
}

export const isSection = (n: JsonNode | undefined): boolean => !!n?.properties;

/** The schema node at a dotted path, or undefined when the key does not exist. */
export function nodeAt(path: string): JsonNode | undefined {
  let node: JsonNode | undefined = schemaTree();
  for (const part of path.split(".")) {
    node = node?.properties?.[part];
    if (!node) return undefined;
  }
  return node;
}

/** Every dotted key, sections included, in schema order. */
export function allKeys(): { path: string; node: JsonNode }[] {
  const out: { path: string; node: JsonNode }[] = [];
  const walk = (node: JsonNode, prefix: string) => {
    for (const [k, child] of Object.entries(node.properties ?? {})) {
      const path = prefix ? `${prefix}.${k}` : k;
      out.push({ path, node: child });
      if (isSection(child)) walk(child, path);
    }
  };
  walk(schemaTree(), "");
  return out;
}

/**
 * Nearest valid key to a mistyped one. Compares whole dotted paths and also last segments, so `lr` finds
 * `optim.lr` and `data.imagesize` finds `data.image_size`. Returns undefined when nothing is close.
 */
export function suggestKey(bad: string): string | undefined {
  const badLeaf = bad.split(".").pop()!.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const { path } of allKeys()) {
    const leaf = path.split(".").pop()!;
    const score = Math.min(levenshtein(bad.toLowerCase(), path), levenshtein(badLeaf, leaf) + 0.5);
    if (score < bestScore) [best, bestScore] = [path, score];
  }
  const limit = Math.max(1, Math.ceil(badLeaf.length / 3)) + 0.5;
  return bestScore <= limit ? best : undefined;
}

/** Short human type of a schema node: `int`, `adam|adamw`, `N or [h,w]`, ... */
export function typeLabel(n: JsonNode): string {
  if (n.enum) return n.enum.map(String).join("|");
  if (n.anyOf) return n.anyOf.map(typeLabel).join(" or ");
  if (n.prefixItems) return `[${n.prefixItems.map(typeLabel).join(",")}]`;
  if (n.properties) return "section";
  const t = Array.isArray(n.type) ? n.type.join("|") : n.type;
  return t === "integer" ? "int" : t === "boolean" ? "bool" : (t ?? "any");
}

/** True when the key holds text, so an override value like `001` or `yes` must stay a string. */
export function acceptsString(n: JsonNode): boolean {
  if (n.type === "string" && !n.enum) return true;
  return !!n.anyOf?.some((a) => a.type === "string" && !a.enum);
}

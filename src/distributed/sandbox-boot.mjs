// Sandbox process entry: a forked process does not inherit the parent's TypeScript loader, so register tsx here.
import { register } from "tsx/esm/api";
register();
await import("./sandbox-child.ts");

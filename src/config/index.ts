// Public face of the config layer.
export { configSchema, imageSizeHW, type Config, type DataConfig, type AugmentConfig, type SplitConfig } from "./schema.ts";
export { resolveConfig, parseConfigObject, uniqueRunName, type ResolveOptions } from "./load.ts";
export { configToYaml, configHelp } from "./text.ts";
export { suggestKey } from "./keys.ts";

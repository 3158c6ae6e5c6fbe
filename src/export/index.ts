// Export and inference: ONNX export by tracing, onnxruntime embedding, bioimage.io packages (write, read,
// validate) and embedding with models made elsewhere.
export { exportModel, exportFunction, lowerTrace, liveCalls, ATEN_TO_ONNX, type ExportedOnnx, type ExportOptions, type ExportPath } from "./onnx-export.ts";
export { traceForward, TraceError, type Trace, type TracedCall, type TracedValue } from "./trace.ts";
export { describeOnnx, OPSET } from "./onnx-graph.ts";
export { onnxRunner, type OnnxRunner } from "./ort.ts";
export { writePackage, type PackageOptions, type PackageResult } from "./package-write.ts";
export { readPackage, type ModelPackage } from "./package-read.ts";
export { validatePackage, assertValid, type ValidationReport } from "./validate.ts";
export { applyProcessing, type ProcessingStep, type NamedTensor } from "./processing.ts";
export { onnxEmbedder, embedRunOnnx, embedImported } from "./onnx-embed.ts";
export { exportRun, exportCommand, embedCommand, wantsExportEmbed, normaliseEmbedArgs } from "./commands.ts";

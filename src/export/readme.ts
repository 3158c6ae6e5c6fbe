// README.md of an exported package: what the model is, how inputs must be prepared, how it was trained and how
// to check it (the spec asks for a Validation section).
import type { Config } from "../config/index.ts";

export function packageReadme(a: { rdf: Record<string, any>; cfg: Config; runName: string; testImage: string; nativeMaxAbs: number; citationsFrom: string | null }): string {
  const { rdf, cfg } = a;
  const input = rdf.inputs[0], output = rdf.outputs[0];
  const [, ch, y, x] = input.axes;
  const cite = (rdf.cite as { text: string; doi?: string; url?: string }[]).map((c) => `- ${c.text}${c.doi ? ` doi:${c.doi}` : ""}${c.url ? ` <${c.url}>` : ""}`).join("\n");
  const [lo, hi] = cfg.data.normalise === "minmax" ? [0, 100] : [cfg.data.percentile_low, cfg.data.percentile_high];
  return `# ${rdf.name}

${rdf.description}

## Inputs and outputs

- **input** \`input\`: float32 \`[batch, ${ch.channel_names.length}, ${y.size}, ${x.size}]\` (channels: ${ch.channel_names.join(", ")}), raw intensities.
  Preprocessing (in rdf.yaml): per image and channel, \`scale_range\` over y/x with percentiles ${lo} / ${hi}, then
  \`clip\` to [0, 1]. Images of another size should be resized to ${y.size}×${x.size} (bioimage-embed used
  \`${cfg.data.fit}\`, bilinear, after normalising).
- **output** \`embedding\`: float32 \`[batch, ${output.axes[1].size}]\`, the latent vector of each image
  (${cfg.model}; ${/vae$/.test(cfg.model) && !/vqvae/.test(cfg.model) ? "the posterior mean" : /vqvae/.test(cfg.model) ? "the continuous pre-quantisation latent" : "the encoder output"}).
- **weights**: ONNX (opset ${rdf.weights.onnx.opset_version}, dynamic batch), batch norm folded into the convolutions.

## Training

Trained with bioimage-embed (run \`${a.runName}\`): model \`${cfg.model}\`, latent ${cfg.latent_dim}, image size
${JSON.stringify(cfg.data.image_size)}, ${cfg.epochs} epoch(s), batch ${cfg.batch_size}, optimizer ${cfg.optim.name} (lr ${cfg.optim.lr}),
seed ${cfg.seed}, on \`${cfg.data.path ?? cfg.data.manifest}\`.

## Validation

The package holds a test input (\`test_input.npy\`: ${a.testImage.split("/").slice(-2).join("/")}, a held-out image, raw
intensities resized to the input size) and the expected output (\`test_output.npy\`). Running the preprocessing and
\`model.onnx\` on the test input reproduces the test output; bioimage-embed's native engine agrees with onnxruntime
on it to ${a.nativeMaxAbs.toExponential(1)} (max absolute difference). Check a copy with
\`bie embed model=<this zip> data.path=<images>\`, or with any bioimage.io tool. Embeddings are judged downstream
(e.g. \`bie evaluate\`: random forest / kNN on known labels); there is no ground truth for an embedding itself.

## Limitations

Self-supervised embeddings reflect the training data (${a.citationsFrom ? "see the citations below" : "see the data's own documentation"}): imaging
protocol, cell type and channel order must match for the embedding to mean the same thing.

## Cite

${cite}
`;
}

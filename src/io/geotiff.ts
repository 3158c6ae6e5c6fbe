// geotiff.js, with its common decoders looked up once. geotiff finds a decoder class with a dynamic import() for
// every strip or tile it decodes; under a module loader with hooks (tsx, which runs `bie`) each import() is a
// round trip to the loader's thread — two thread wake-ups per strip, several per image. The decoders that take
// geotiff's default parameters are imported once here and registered again as already-loaded classes; JPEG, LERC,
// WebP (own parameters) and zstd (a WebAssembly start-up nobody should pay for unless a file needs it) keep
// geotiff's own lookup.
import { addDecoder, getDecoder } from "geotiff";

type DecoderClass = Parameters<typeof addDecoder>[1] extends () => Promise<infer C> ? C : never;

// [compression codes, prefer a worker (geotiff's own setting for them)]: none, LZW, deflate, PackBits
const ONCE: [(number | undefined)[], boolean][] = [[[undefined, 1], false], [[5], true], [[8, 32946], true], [[32773], true]];
for (const [cases, preferWorker] of ONCE) {
  const decoder = await getDecoder(cases[1] ?? cases[0]!, {} as never);
  const cls = decoder.constructor as DecoderClass;
  addDecoder(cases, () => Promise.resolve(cls), undefined, preferWorker);
}

export { fromArrayBuffer, GeoTIFF, getDecoder } from "geotiff";

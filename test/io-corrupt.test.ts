// Bad-input corpus: broken files are generated from the format samples into a temp dir at test time,
// then opened and read in full through openImageSource. Every case must end in a BadInputError that
// names the broken file (or a file inside the broken folder) and says what is wrong — no other
// exception, no hang (per-case timeout), and no file created or changed in the case's folder.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BadInputError } from "../src/errors.ts";
import { openImageSource } from "../src/io/source.ts";
import { checkFinite } from "../src/io/finite.ts";
import { cloneZarr, entry, fixCrc, getTag, pngChunks, replaceText, setTag, setU32, tiffLayout, writeTiff } from "./io-corrupt-helpers.ts";

const DATA = fileURLToPath(new URL("../../shared/data/", import.meta.url));
const FIX = fileURLToPath(new URL("./fixtures/io/", import.meta.url));
const S = DATA + "format_samples/";
const STRIPS = S + "generated/bbbc010_A01_2ch.ome.tif";
const TILED = S + "generated/bbbc010_A01_2ch_tiled_zlib_pyramid.ome.tif";
const VIV = S + "viv_fixtures/multi-channel.ome.tif";
const CH = (i: number) => S + `viv_fixtures/multi-tiff/Channel_${i}.tif`;
const PNG = DATA + "bbbc010/masks_eachworm/A01_01_ground_truth.png";
const ZBLOSC = S + "generated/coelho_gnf_dna-4_blosc.ome.zarr";
const ZRAW = S + "generated/coelho_gnf_dna-4_raw.ome.zarr";
const ZV04 = S + "viv_fixtures/ome-zarr/blobs_image_v04.ome.zarr";
const ZV05 = S + "viv_fixtures/ome-zarr/blobs_image_v05.ome.zarr";
const B2R = S + "viv_fixtures/bioformats-zarr";

const T = { ImageWidth: 256, ImageLength: 257, BitsPerSample: 258, Compression: 259, StripOffsets: 273, StripByteCounts: 279, PlanarConfiguration: 284, Predictor: 317, TileOffsets: 324, SubIFDs: 330, SampleFormat: 339 };

const bytes = (p: string) => new Uint8Array(readFileSync(p));
const json = (p: string) => JSON.parse(readFileSync(p, "utf8"));
const writeJson = (p: string, v: unknown) => writeFileSync(p, JSON.stringify(v));

interface Case { name: string; make: (dir: string) => string | string[]; reason: RegExp }
const cases: Case[] = [];
const add = (name: string, reason: RegExp, make: Case["make"]) => cases.push({ name, make, reason });

/** A file case: `build` returns the broken bytes, written to `<dir>/<file>`. */
const fileCase = (name: string, file: string, reason: RegExp, build: () => Uint8Array | string) =>
  add(name, reason, (dir) => { const p = join(dir, file); writeFileSync(p, build()); return p; });

/** A Zarr case: clone `src` into the case dir, then `edit` it. */
const zarrCase = (name: string, src: string, reason: RegExp, edit: (root: string) => void, sub = "img.zarr") =>
  add(name, reason, (dir) => { const root = join(dir, sub); cloneZarr(src, root); edit(root); return root; });

const edited = (src: string, f: (b: Uint8Array) => Uint8Array | void) => () => { const b = bytes(src); return f(b) ?? b; };

// ---------------------------------------------------------------- TIFF container
fileCase("empty file", "empty.ome.tif", /file is empty/, () => new Uint8Array(0));
fileCase("4-byte file", "short.tif", /too short for a TIFF header|truncated/, () => bytes(VIV).subarray(0, 4));
fileCase("wrong byte-order mark", "xx.ome.tif", /unrecognised magic bytes/, edited(VIV, (b) => { b[0] = 0x58; b[1] = 0x58; }));
fileCase("wrong TIFF magic number", "magic41.tif", /magic number 41/, edited(VIV, (b) => { b[2] = 41; }));
fileCase("BigTIFF with bad offset size", "big.tif", /BigTIFF offset size is 4/, () => {
  const b = new Uint8Array(64); b.set([0x49, 0x49, 43, 0, 4, 0, 0, 0]); return b;
});
fileCase("first IFD offset past the end", "ifd-past.tif", /IFD 0: offset \d+ lies past the end/, edited(VIV, (b) => setU32(b, 4, b.length + 100)));
fileCase("first IFD offset is 0", "ifd-zero.tif", /first IFD offset is 0/, edited(VIV, (b) => setU32(b, 4, 0)));
fileCase("first IFD points into the header", "ifd-header.tif", /points into the file header/, edited(VIV, (b) => setU32(b, 4, 4)));
fileCase("next-IFD offset past the end", "next-past.tif", /IFD 1: offset \d+ lies past the end/, edited(VIV, (b) => setU32(b, tiffLayout(b).ifds[0].nextPos, b.length + 1000)));
fileCase("IFD chain loops back", "loop.tif", /IFD chain loops back/, edited(VIV, (b) => { const l = tiffLayout(b); setU32(b, l.ifds[2].nextPos, l.ifds[0].offset); }));
fileCase("IFD points to itself", "selfloop.tif", /IFD chain loops back/, edited(VIV, (b) => { const l = tiffLayout(b); setU32(b, l.ifds[0].nextPos, l.ifds[0].offset); }));
fileCase("truncated to half (strips)", "half.ome.tif", /past the end|truncated/, () => bytes(STRIPS).subarray(0, Math.floor(1448070 / 2)));
fileCase("truncated to 90% (tiles)", "ninety.ome.tif", /past the end|truncated/, () => { const b = bytes(TILED); return b.subarray(0, Math.floor(b.length * 0.9)); });
fileCase("truncated inside IFD 0", "ifdcut.tif", /IFD 0 at byte 8 is corrupt or truncated|truncated/, () => bytes(VIV).subarray(0, 8 + 2 + 12 * 4));
fileCase("strip offset past the end", "strip-off.ome.tif", /strip 0 at byte \d+ .*runs past the end/, edited(STRIPS, (b) => setTag(b, 0, T.StripOffsets, b.length + 10)));
fileCase("strip byte count too large", "strip-count.ome.tif", /strip 0 .*runs past the end/, edited(STRIPS, (b) => setTag(b, 0, T.StripByteCounts, 0x7fffffff)));
fileCase("tile offset past the end", "tile-off.ome.tif", /tile 0 at byte \d+ .*runs past the end/, edited(TILED, (b) => setTag(b, 0, T.TileOffsets, b.length + 10)));
fileCase("SubIFD offset past the end", "subifd.ome.tif", /SubIFD 0 of IFD 0: offset \d+ lies past the end/, edited(TILED, (b) => setTag(b, 0, T.SubIFDs, b.length + 10)));
fileCase("image width 0", "w0.ome.tif", /zero-sized/, edited(VIV, (b) => setTag(b, 0, T.ImageWidth, 0)));
fileCase("image height 0", "h0.ome.tif", /zero-sized/, edited(VIV, (b) => setTag(b, 0, T.ImageLength, 0)));
fileCase("12-bit samples", "bits12.ome.tif", /12-bit samples/, edited(VIV, (b) => setTag(b, 0, T.BitsPerSample, 12)));
fileCase("invalid SampleFormat", "fmt7.ome.tif", /SampleFormat 7/, edited(VIV, (b) => setTag(b, 0, T.SampleFormat, 7)));
fileCase("unknown compression", "comp99.ome.tif", /compression 99 is not supported/, edited(STRIPS, (b) => setTag(b, 0, T.Compression, 99)));
fileCase("garbage in a deflate tile", "deflate-junk.ome.tif", /tile 0 cannot be inflated/, edited(TILED, (b) => {
  const off = getTag(b, 0, T.TileOffsets);
  b.fill(0xab, off, off + 64);
}));
fileCase("garbage in an LZW strip", "lzw-junk.tif", /strip 0 (cannot be decoded|decodes to \d+ bytes)/, edited(FIX + "tiff/u16_lzw.tif", (b) => {
  const off = getTag(b, 0, T.StripOffsets);
  b.fill(0xff, off, off + getTag(b, 0, T.StripByteCounts));
}));
fileCase("floating-point predictor", "pred3.tif", /floating-point predictor \(3\)/, edited(FIX + "tiff/u32_zlib_pred.tif", (b) => setTag(b, 0, T.Predictor, 3)));
fileCase("invalid predictor", "pred9.tif", /Predictor=9 is invalid/, edited(FIX + "tiff/u32_zlib_pred.tif", (b) => setTag(b, 0, T.Predictor, 9)));
fileCase("StripOffsets shorter than the strips", "strips-short.tif", /StripOffsets has 1 entries, the image needs 7/, edited(FIX + "tiff/i16_strips_rps3.tif", (b) => {
  const e = entry(b, 0, T.StripOffsets);
  setU32(b, e.entryPos + 4, 1, tiffLayout(b).le);
}));
fileCase("text file named .ome.tif", "text.ome.tif", /unrecognised magic bytes/, () => "this is not an image\n");

// ---------------------------------------------------------------- OME-XML (same-length edits in place)
const omeCase = (name: string, reason: RegExp, from: string, to: string, from2?: string, to2?: string) =>
  fileCase(name, name.replace(/\W+/g, "-") + ".ome.tif", reason, () => {
    let b = replaceText(bytes(STRIPS), from, to);
    if (from2 && to2) b = replaceText(b, from2, to2);
    return b;
  });
omeCase("OME-XML not well-formed", /malformed OME-XML.*does not match/, "</OME>", "</OMX>");
omeCase("OME-XML SizeX disagrees with the IFD", /SizeX=697 .* but IFD 0 is 696×520/, 'SizeX="696"', 'SizeX="697"');
omeCase("OME-XML Type disagrees with the IFD", /Type uint32 but IFD 0 holds uint16/, 'Type="uint16"', 'Type="uint32"');
omeCase("OME-XML unknown pixel Type", /pixel Type="cplx16" is not supported/, 'Type="uint16"', 'Type="cplx16"');
omeCase("OME-XML SizeC zero", /SizeC="0"> is not a positive integer/, 'SizeC="2"', 'SizeC="0"');
omeCase("OME-XML bad DimensionOrder", /DimensionOrder="XYCQT"/, 'DimensionOrder="XYCZT"', 'DimensionOrder="XYCQT"');
omeCase("OME-XML TiffData IFD beyond the file", /IFD 7, but .* has 2 IFD/, 'IFD="0"', 'IFD="7"');
omeCase("OME-XML PlaneCount too large", /covers more planes than the image has/, 'PlaneCount="2"', 'PlaneCount="9"');
omeCase("OME-XML without Pixels", /has no <Pixels> element/, "<Pixels ", "<Pixelx ", "</Pixels>", "</Pixelx>");
omeCase("OME-XML unterminated attribute quote", /malformed OME-XML/, 'SizeX="696"', 'SizeX="696 ');
omeCase("OME-XML missing SizeT", /no SizeT attribute/, 'SizeT="1"', 'SizeQ="1"');
omeCase("OME-XML unknown entity", /malformed OME-XML.*unknown entity &bogus;/, 'Name="w1_fluorescence"', 'Name="w1_&bogus;cence"');
omeCase("OME-XML plane left without an IFD", /leave plane T=0 C=1 Z=0 without an IFD/, 'PlaneCount="2"', 'PlaneCount="1"');
add("OME-TIFF partner file missing", /multifile_part_b\.ome\.tif, which cannot be read .*no such file/, (dir) => {
  const p = join(dir, "multifile_part_a.ome.tif");
  writeFileSync(p, bytes(FIX + "tiff/multifile_part_a.ome.tif"));
  return p;
});

// ---------------------------------------------------------------- PNG
fileCase("PNG with a bad CRC", "crc.png", /corrupt PNG.*CRC/i, edited(PNG, (b) => { b[pngChunks(b)[0].pos + 8 + 3] ^= 0x01; }));
fileCase("PNG truncated", "half.png", /corrupt PNG/, () => { const b = bytes(PNG); return b.subarray(0, b.length >> 1); });
fileCase("PNG zero width", "w0.png", /corrupt PNG|zero size/, edited(PNG, (b) => {
  const ihdr = pngChunks(b)[0];
  setU32(b, ihdr.pos + 8, 0, false);
  fixCrc(b, ihdr.pos);
}));
fileCase("PNG IDAT garbage with valid CRC", "idat.png", /corrupt PNG/, edited(PNG, (b) => {
  const idat = pngChunks(b).find((c) => c.type === "IDAT")!;
  b.fill(0x5a, idat.pos + 8, idat.pos + 8 + idat.length);
  fixCrc(b, idat.pos);
}));
fileCase("PNG wrong magic", "magic.png", /unrecognised magic bytes/, edited(PNG, (b) => { b[1] = 0x51; }));

// ---------------------------------------------------------------- OME-Zarr v2
const zarray = (root: string, level = "0") => join(root, level, ".zarray");
const patchJson = (p: string, f: (j: Record<string, unknown>) => void) => { const j = json(p); f(j); writeJson(p, j); };
zarrCase(".zarray with an unknown dtype", ZBLOSC, /\.zarray: dtype "<f3" is not supported/, (r) => patchJson(zarray(r), (j) => { j.dtype = "<f3"; }));
zarrCase(".zarray with the wrong dtype", ZBLOSC, /blosc chunk holds 65536 bytes, expected 131072/, (r) => { for (const l of ["0", "1", "2"]) patchJson(zarray(r, l), (j) => { j.dtype = "<u2"; }); });
zarrCase("one level's .zarray with another dtype", ZBLOSC, /1\/\.zarray: level 1 holds uint16, level 0 holds uint8/, (r) => patchJson(zarray(r, "1"), (j) => { j.dtype = "<u2"; }));
zarrCase("raw .zarray with the wrong dtype", ZRAW, /chunk decodes to 32768 values, expected 65536/, (r) => { for (const l of ["0", "1", "2"]) patchJson(zarray(r, l), (j) => { j.dtype = "<u2"; }); });
zarrCase(".zarray shape larger than the data", ZBLOSC, /0\/0\/5\/0: chunk file is missing/, (r) => patchJson(zarray(r), (j) => { j.shape = [1, 2060, 1349]; }));
zarrCase(".zarray negative shape", ZBLOSC, /shape \[1,-5,1349\] is not a list of non-negative integers/, (r) => patchJson(zarray(r), (j) => { j.shape = [1, -5, 1349]; }));
zarrCase(".zarray zero-sized shape", ZBLOSC, /zero-sized dimension/, (r) => patchJson(zarray(r), (j) => { j.shape = [1, 0, 1349]; }));
zarrCase(".zarray shape with the wrong rank", ZBLOSC, /chunks \[1,256,256\] must be 2 positive integers/, (r) => patchJson(zarray(r), (j) => { j.shape = [1030, 1349]; }));
zarrCase(".zarray rank disagrees with the axes", ZBLOSC, /multiscales lists 3 axes but the level-0 array is 2-D/, (r) => patchJson(zarray(r), (j) => { j.shape = [1030, 1349]; j.chunks = [256, 256]; }));
zarrCase(".zarray zero chunk size", ZBLOSC, /chunks \[1,0,256\] must be 3 positive integers/, (r) => patchJson(zarray(r), (j) => { j.chunks = [1, 0, 256]; }));
zarrCase(".zarray not JSON", ZBLOSC, /\.zarray: is not valid JSON/, (r) => writeFileSync(zarray(r), "{ shape: [1, 2"));
zarrCase(".zarray missing", ZBLOSC, /no Zarr array here/, (r) => unlinkSync(zarray(r)));
zarrCase(".zarray unknown compressor", ZBLOSC, /compressor "snappy9" is not supported/, (r) => patchJson(zarray(r), (j) => { j.compressor = { id: "snappy9" }; }));
zarrCase(".zarray wrong zarr_format", ZBLOSC, /zarr_format is 3, expected 2/, (r) => patchJson(zarray(r), (j) => { j.zarr_format = 3; }));
zarrCase(".zarray bad order", ZBLOSC, /order "Z" must be "C" or "F"/, (r) => patchJson(zarray(r), (j) => { j.order = "Z"; }));
zarrCase("level 1 larger than level 0", ZBLOSC, /level 1 is larger than level 0 along y/, (r) => patchJson(zarray(r, "1"), (j) => { j.shape = [1, 2000, 675]; }));
zarrCase(".zattrs not JSON", ZBLOSC, /\.zattrs: is not valid JSON/, (r) => writeFileSync(join(r, ".zattrs"), "multiscales:"));
zarrCase(".zattrs without multiscales", ZBLOSC, /has no "multiscales" list/, (r) => writeJson(join(r, ".zattrs"), {}));
zarrCase(".zattrs dataset path to nothing", ZBLOSC, /9: no Zarr array here/, (r) => patchJson(join(r, ".zattrs"), (j) => { (j as any).multiscales[0].datasets[0].path = "9"; }));
zarrCase(".zattrs unknown axis", ZBLOSC, /axis "q" is not one of t, c, z, y, x/, (r) => patchJson(join(r, ".zattrs"), (j) => { (j as any).multiscales[0].axes[0].name = "q"; }));
zarrCase(".zattrs axes without x", ZBLOSC, /must include y and x/, (r) => patchJson(join(r, ".zattrs"), (j) => { (j as any).multiscales[0].axes[2].name = "z"; }));
zarrCase("missing chunk (blosc)", ZBLOSC, /0\/0\/1\/1: chunk file is missing/, (r) => unlinkSync(join(r, "0/0/1/1")));
zarrCase("truncated blosc chunk", ZBLOSC, /0\/0\/1\/1: corrupt blosc chunk \(frame says \d+ compressed bytes, the file has 40\)/, (r) => { const p = join(r, "0/0/1/1"); const b = bytes(p).subarray(0, 40); unlinkSync(p); writeFileSync(p, b); });
zarrCase("garbage blosc chunk", ZBLOSC, /0\/0\/2\/2: corrupt blosc chunk/, (r) => { const p = join(r, "0/0/2/2"); unlinkSync(p); writeFileSync(p, new Uint8Array(5000).fill(0x77)); });
zarrCase("truncated raw chunk", ZRAW, /0\/0\/0\/0: chunk decodes to 32768 values, expected 65536/, (r) => { const p = join(r, "0/0/0/0"); const b = bytes(p).subarray(0, 32768); unlinkSync(p); writeFileSync(p, b); });
zarrCase("labels list names a missing label image", ZBLOSC, /labels\/ghost: is not a Zarr group/, (r) => writeJson(join(r, "labels/.zattrs"), { labels: ["ghost"] }));
zarrCase("label .zarray with an unknown dtype", ZBLOSC, /nuclei\/0\/\.zarray: dtype "<c16" is not supported/, (r) => patchJson(join(r, "labels/nuclei/0/.zarray"), (j) => { j.dtype = "<c16"; }));
zarrCase("not a Zarr folder", ZBLOSC, /is not a Zarr store|neither a Zarr store/, (r) => { rmSync(r, { recursive: true }); mkdirSync(join(r, "0"), { recursive: true }); writeFileSync(join(r, "notes.txt"), "x"); });

zarrCase("64-bit labels that do not fit in 32 bits", FIX + "zarr/labels_u64_forder.zarr", /1\.0: 64-bit value 1099511627776 does not fit in uint32/, (r) => {
  const p = join(r, "1.0");
  const chunk = new BigUint64Array(64);
  chunk[5] = 2n ** 40n;
  unlinkSync(p);
  writeFileSync(p, new Uint8Array(chunk.buffer));
});

// ---------------------------------------------------------------- OME-Zarr v3 (NGFF 0.5)
const zjson = (root: string) => join(root, "0", "zarr.json");
zarrCase("zarr.json not JSON", ZV05, /zarr\.json: is not valid JSON/, (r) => writeFileSync(zjson(r), "{\"shape\": ["));
zarrCase("zarr.json unknown data_type", ZV05, /data_type "complex256" is not supported/, (r) => patchJson(zjson(r), (j) => { j.data_type = "complex256"; }));
zarrCase("zarr.json wrong data_type", ZV05, /chunk decodes to 864 values, expected 432/, (r) => patchJson(zjson(r), (j) => { j.data_type = "float32"; }));
zarrCase("zarr.json shape larger than the data", ZV05, /c\/0\/1\/0: chunk file is missing/, (r) => patchJson(zjson(r), (j) => { j.shape = [3, 24, 12]; }));
zarrCase("zarr.json unknown codec", ZV05, /codec "snappy" is not supported/, (r) => patchJson(zjson(r), (j) => { (j as any).codecs[1].name = "snappy"; }));
zarrCase("zarr.json node_type group for an array", ZV05, /node_type is "group", expected "array"/, (r) => patchJson(zjson(r), (j) => { j.node_type = "group"; }));
zarrCase("missing v3 chunk", ZV05, /c\/0\/0\/0: chunk file is missing/, (r) => unlinkSync(join(r, "0/c/0/0/0")));
zarrCase("garbage v3 chunk", ZV05, /c\/0\/0\/0: cannot decode chunk/, (r) => { const p = join(r, "0/c/0/0/0"); unlinkSync(p); writeFileSync(p, new Uint8Array(300).fill(3)); });

// ---------------------------------------------------------------- bioformats2raw
zarrCase("bioformats2raw without series 0", B2R, /bioformats2raw folder has no series 0/, (r) => rmSync(join(r, "data.zarr", "0"), { recursive: true }), "b2r");
zarrCase("bioformats2raw malformed METADATA.ome.xml", B2R, /METADATA\.ome\.xml: malformed OME-XML/, (r) => writeFileSync(join(r, "METADATA.ome.xml"), "<OME><Image></OME>"), "b2r");
zarrCase("bioformats2raw unknown layout", B2R, /bioformats2raw\.layout 99 is not supported/, (r) => writeJson(join(r, "data.zarr", ".zattrs"), { "bioformats2raw.layout": 99 }), "b2r");
for (const c of cases.slice(-3)) {
  const make = c.make;
  c.make = (dir) => join(make(dir) as string, "data.zarr");
}

// ---------------------------------------------------------------- non-finite pixels
const nanAt = <A extends Float32Array | Float64Array>(a: A, i: number, v: number) => { a[i] = v; return a; };
const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => i / 7);
fileCase("float32 TIFF with NaN", "nan32.tif", /non-finite pixel value NaN at channel 0, y=3, x=5/, () => writeTiff([{ width: 16, height: 8, data: nanAt(ramp(128), 3 * 16 + 5, NaN) }]));
fileCase("float32 TIFF with +Inf", "inf32.tif", /\+Inf at channel 0, y=7, x=15/, () => writeTiff([{ width: 16, height: 8, data: nanAt(ramp(128), 127, Infinity) }]));
fileCase("float64 TIFF with -Inf on page 2", "ninf64.tif", /-Inf at channel 1, y=0, x=0/, () => writeTiff([
  { width: 4, height: 4, data: new Float64Array(16).fill(1) }, { width: 4, height: 4, data: nanAt(new Float64Array(16), 0, -Infinity) },
]));
zarrCase("float64 Zarr v2 chunk with NaN", ZV04, /non-finite pixel value NaN at channel 2, y=11, x=11/, (r) => {
  patchJson(zarray(r), (j) => { j.compressor = null; });
  const data = new Float64Array(3 * 12 * 12).fill(0.5);
  data[3 * 144 - 1] = NaN;
  const p = join(r, "0/0/0/0");
  unlinkSync(p);
  writeFileSync(p, new Uint8Array(data.buffer));
});
zarrCase("float64 Zarr v3 chunk with +Inf", ZV05, /\+Inf at channel 1, y=0, x=3/, (r) => {
  patchJson(zjson(r), (j) => { (j as any).codecs = [{ name: "bytes", configuration: { endian: "little" } }]; });
  const data = new Float64Array(3 * 12 * 12).fill(0.25);
  data[144 + 3] = Infinity;
  const p = join(r, "0/c/0/0/0");
  unlinkSync(p);
  writeFileSync(p, new Uint8Array(data.buffer));
});

// ---------------------------------------------------------------- zero-sized, folders, paths
fileCase("TIFF written with width 0", "zero.tif", /zero-sized/, () => writeTiff([{ width: 0, height: 5, data: new Uint8Array(0) }]));
fileCase("TIFF with an absurd width", "wide.tif", /a strip of 2147483647×5 pixels \(\d+ bytes\) is implausibly large/, () => writeTiff([{ width: 2 ** 31 - 1, height: 5, data: new Uint8Array(10) }]));
fileCase("OME-XML with absurd plane counts", "planes.ome.tif", /make 999999999000 planes: implausibly many/, () => writeTiff([{ width: 2, height: 2, data: new Uint8Array(4),
  description: '<?xml version="1.0"?><OME><Image ID="Image:0"><Pixels DimensionOrder="XYZCT" Type="uint8" SizeX="2" SizeY="2" SizeZ="999999999" SizeC="1000" SizeT="1"/></Image></OME>' }]));
zarrCase(".zarray with gigantic chunks", ZBLOSC, /hold 10000000000 values each: implausibly large/, (r) => patchJson(zarray(r), (j) => { j.chunks = [1, 100000, 100000]; }));
add("channel folder with mismatched sizes", /is 8×5 but Channel_0\.tif is 439×167/, (dir) => {
  const d = join(dir, "chans"); mkdirSync(d);
  writeFileSync(join(d, "Channel_0.tif"), bytes(CH(0)));
  writeFileSync(join(d, "Channel_1.tif"), writeTiff([{ width: 8, height: 5, data: new Uint8Array(40) }]));
  return d;
});
add("channel folder with mismatched dtypes", /holds uint16 pixels but Channel_0\.tif holds uint8/, (dir) => {
  const d = join(dir, "chans"); mkdirSync(d);
  writeFileSync(join(d, "Channel_0.tif"), bytes(CH(0)));
  writeFileSync(join(d, "Channel_1.tif"), writeTiff([{ width: 439, height: 167, data: new Uint16Array(439 * 167) }]));
  return d;
});
add("channel folder with a truncated file", /Channel_1\.tif.*(past the end|truncated)/, (dir) => {
  const d = join(dir, "chans"); mkdirSync(d);
  writeFileSync(join(d, "Channel_0.tif"), bytes(CH(0)));
  writeFileSync(join(d, "Channel_1.tif"), bytes(CH(1)).subarray(0, 30000));
  return d;
});
add("explicit channel list with a missing file", /Channel_9\.tif: cannot open file \(no such file\)/, (dir) => [CH(0), join(dir, "Channel_9.tif")]);
add("empty directory", /neither a Zarr store/, (dir) => { const d = join(dir, "empty"); mkdirSync(d); return d; });
add("path that does not exist", /no such file or directory/, (dir) => join(dir, "nothing-here.ome.zarr"));

// ---------------------------------------------------------------- the runner
/** Opens the source and reads every plane of every level (and of every label image). */
async function readEverything(path: string | string[]) {
  const src = await openImageSource(path);
  const sources = [src];
  try {
    for (const name of src.labels) sources.push(await src.openLabel(name));
    for (const s of sources)
      for (let level = 0; level < s.levels; level++) {
        const sh = s.shapes[level];
        for (let t = 0; t < sh.t; t++) for (let z = 0; z < sh.z; z++) await s.readRegion({ level, t, z, y0: 0, x0: 0, h: sh.y, w: sh.x });
      }
  } finally {
    for (const s of sources) await s.close();
  }
}

/** name → size and mtime of everything under dir (symlinks not followed), to prove nothing was written. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      out.push(`${p} ${st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

describe("bad-input corpus", () => {
  let root = "";
  before(() => { root = mkdtempSync(join(tmpdir(), "bie-io-corrupt-")); });
  after(() => rmSync(root, { recursive: true, force: true }));

  test(`the corpus has at least 50 cases (has ${cases.length})`, () => assert.ok(cases.length >= 50));

  cases.forEach((c, i) => {
    test(c.name, { timeout: 15_000 }, async () => {
      const dir = join(root, String(i).padStart(3, "0"));
      mkdirSync(dir);
      const target = c.make(dir);
      const before = snapshot(dir);
      const err = await readEverything(target).then(() => undefined, (e: unknown) => e);
      if (process.env.BIE_SHOW_ERRORS) console.log(`[${c.name}] ${(err as Error)?.message?.replace(root, "$TMP")}`);
      assert.ok(err !== undefined, "reading succeeded; expected a BadInputError");
      assert.ok(err instanceof BadInputError, `expected BadInputError, got ${(err as Error)?.name}: ${(err as Error)?.message}\n${(err as Error)?.stack}`);
      assert.ok(err.file.startsWith(dir), `error names ${err.file}, not a file under ${dir}`);
      assert.ok(err.message.startsWith(err.file + ": "), "message starts with the file");
      assert.match(err.message, c.reason);
      assert.deepEqual(snapshot(dir), before, "files changed while reading");
    });
  });

  test("checkFinite passes finite and integer arrays and names the file otherwise", () => {
    checkFinite(new Float32Array([1, -2, 3e38]), "a.tif");
    checkFinite(new Uint16Array([65535]), "a.tif");
    assert.throws(() => checkFinite(new Float64Array([0, NaN]), "b.zarr"), (e: unknown) => e instanceof BadInputError && e.file === "b.zarr" && /NaN at element 1/.test(e.message));
  });

  test("non-finite checks can be turned off for callers that clean data themselves", async () => {
    const dir = join(root, "finite-off");
    mkdirSync(dir);
    const p = join(dir, "nan.tif");
    writeFileSync(p, writeTiff([{ width: 2, height: 1, data: new Float32Array([NaN, 1]) }]));
    const { openImageSource: open } = await import("../src/io/source.ts");
    const src = await open(p, { checkFinite: false });
    const px = await src.readRegion({ y0: 0, x0: 0, h: 1, w: 2 });
    assert.ok(Number.isNaN(px[0]) && px[1] === 1);
    await src.close();
  });

  test("missing chunks can be accepted as fill_value when asked", async () => {
    const r = join(root, "fill");
    cloneZarr(ZBLOSC, r);
    unlinkSync(join(r, "0/0/1/1"));
    const src = await openImageSource(r, { missingChunks: "fill" });
    const px = await src.readRegion({ y0: 256, x0: 256, h: 256, w: 256 });
    assert.ok(px.every((v) => v === 0));
    await src.close();
  });
});

// Public face of the bioimage readers: one lazy region-reading interface over OME-TIFF, plain and
// multi-file TIFF, PNG, OME-Zarr (0.4 / 0.5) and bioformats2raw folders, plus tile sampling helpers.
export { readImage, decodeImage, dtypeOf, type PlanarImage, type PixelArray, type PixelDtype } from "./image.ts";
export {
  openImageSource, MemorySource, readRegionImage, resolveRegion, CANONICAL_AXES,
  type ImageSource, type RegionRequest, type OpenOptions, type Shape5, type Axis, type SourceFormat, type PhysicalSize,
} from "./source.ts";
export { openTiffFile, openOmeTiff, openPlainTiff, openMultiFileTiff } from "./ome-tiff.ts";
export { openOmeZarr } from "./ome-zarr.ts";
export { parseOmeXml, isOmeXml, type OmeImage } from "./ome-xml.ts";
export { checkFinite } from "./finite.ts";
export { chunkCache, ChunkCache } from "./chunk-cache.ts";
export {
  randomTiles, randomTilesAcross, gridTiles, labelObjects, objectCrops,
  type Tile, type TileSize, type RandomTileOptions, type LabelObject, type ObjectCrop, type ObjectCropOptions,
} from "./tiles.ts";

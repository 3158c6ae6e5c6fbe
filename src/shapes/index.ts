// Public API of the shape layer: masks → contours → resampled outlines → distance matrices, the way back
// (MDS, Procrustes, rasterisation), matrix penalties and classical features. No engine needed.
export { readMask, readMaskSync, decodeMask, type MaskImage } from "./mask-io.ts";
export {
  objectContour, cropObject, labelComponents, traceOuterContour, foregroundBox, signedArea, reverseContour,
  type Contour, type MaskLike, type ObjectOptions, type ObjectContour, type Crop,
} from "./contour.ts";
export {
  resampleContour, periodicSpline, splinePoint, sampleParameters, arcLengthAt, knotArcLengths, checkResampleOptions,
  DEFAULT_POINTS, type PeriodicSpline, type ResampleOptions, type Spacing,
} from "./resample.ts";
export {
  distanceMatrix, cyclicShift, reverseMatrix, symmetryVariants, randomSymmetry, diameterEnds, tipVariants, tipVariant, matrixSide, checkNormalisation,
  type Normalisation,
} from "./distance.ts";
export { classicalMds, mdsContour, procrustes, rasterisePolygon, type ProcrustesOptions, type ProcrustesResult } from "./mds.ts";
export {
  diagonalLoss, symmetryLoss, nonNegativeLoss, triangleInequalityLoss, triangleInequalityLossSampled, matrixLosses, mulberry32,
  type MatrixLossWeights,
} from "./matrix-losses.ts";
export {
  regionprops, ellipticFourierDescriptors, normaliseEfd, efdFeatures, classicalFeatures, efdColumns, REGIONPROPS_COLUMNS,
  type Regionprops, type ClassicalFeatures,
} from "./features.ts";
export {
  classicalFeatureTable, maskFolderFeatureTable, writeFeatureTable, tableToCsv, parseCsv,
  type FeatureTable, type FeatureTableOptions,
} from "./feature-table.ts";
export {
  masksToDistanceMatrices, maskToDistanceMatrix, checkDistanceOptions, type DistanceOptions, type BatchOptions,
} from "./pipeline.ts";
export { closeShapeWorkers } from "./worker-pool.ts";

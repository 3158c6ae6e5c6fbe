// Patch search: find the tiles of large images (or the images of a dataset) most similar to a query crop.
export { searchPatches, loadSearchModel, standardisedCosine, distinctHits, type SearchOptions, type SearchResult, type Hit } from "./search.ts";
export { searchCommand, parseSearchArgs } from "./command.ts";
export { writeSearchFigure } from "./figure.ts";

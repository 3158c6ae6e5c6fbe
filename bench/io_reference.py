#!/usr/bin/python3
"""Reference side of `npm run bench -- io`: reads the same random tiles as bench/io.ts with
zarr-python (OME-Zarr, blosc) and tifffile's zarr view (tiled deflate OME-TIFF), the idiomatic lazy
region reads in Python. One untimed warm-up pass, then `repeats` timed passes; prints one JSON line
per format: {"fmt", "runs": [tiles/s, ...], "checksum": sum of all pixels of one pass}.

usage: bench/io_reference.py SPEC.json   (SPEC written by bench/io.ts)
"""
import json
import sys
import time

import tifffile
import zarr


def timed_passes(read, tiles, repeats):
    checksum = 0
    for (y0, x0, h, w) in tiles:  # warm-up: imports, codec set-up, OS file cache
        checksum += int(read(y0, x0, h, w).sum())
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for (y0, x0, h, w) in tiles:
            read(y0, x0, h, w)
        runs.append(len(tiles) / (time.perf_counter() - t0))
    return runs, checksum


def main():
    spec = json.load(open(sys.argv[1]))
    repeats = spec["repeats"]

    z = zarr.open(spec["zarr"]["array"], mode="r")
    runs, checksum = timed_passes(lambda y0, x0, h, w: z[0, y0:y0 + h, x0:x0 + w], spec["zarr"]["tiles"], repeats)
    print(json.dumps({"fmt": "zarr", "runs": runs, "checksum": checksum, "reader": f"zarr {zarr.__version__}"}), flush=True)

    with tifffile.TiffFile(spec["tiff"]["path"]) as tif:
        store = tif.series[0].aszarr(level=0)
        za = zarr.open(store, mode="r")
        runs, checksum = timed_passes(lambda y0, x0, h, w: za[:, y0:y0 + h, x0:x0 + w], spec["tiff"]["tiles"], repeats)
        store.close()
    print(json.dumps({"fmt": "tiff", "runs": runs, "checksum": checksum, "reader": f"tifffile {tifffile.__version__} aszarr"}), flush=True)


if __name__ == "__main__":
    main()

"""The region and its people: the grid (metric CRS, tiles), the population per cell and the
terrain (synthetic relief, radial profiles, terrain irregularity)."""

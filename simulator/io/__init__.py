"""Readers and writers at the edges: YAML, rasters, vectors, tables."""

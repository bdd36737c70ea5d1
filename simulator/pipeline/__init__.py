"""Orchestration: a scenario through the engine to a result (prepare -> site pass -> tiles
-> reduction -> business -> outputs), in memory or tiled, serially or on Dask."""

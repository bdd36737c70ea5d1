"""Propagation models: pure, vectorised numpy functions."""

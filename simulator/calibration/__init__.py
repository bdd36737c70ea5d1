"""Predictions against measurements: compare, calibrate, cross-validate.

``compare(scenario, measurements)`` predicts every measured sample with the scenario's own
model chain, point to point from the sample's transmitter, and gives the error statistics;
``calibrate(...)`` also fits the standard offset / distance-slope correction (globally, per
transmitter or per clutter class; by least squares or censored maximum likelihood),
estimates the location variability and the shadowing correlation distance, reports the
k-fold cross-validated RMSE (folds by route or transmitter) beside the in-sample one, and
builds the calibrated scenario (``propagation.calibration``), which ``run`` and ``plan``
apply. ``ruralsim calibrate`` is the command line. Formats and method: docs/validation.md.
"""

from .api import Calibration, Comparison, calibrate, compare, cross_validate, fit_points
from .fit import Correction, assign_folds, fit_correction, route_segments
from .plotting import (plot_correlogram, plot_error_map, plot_error_vs_distance,
                       plot_predicted_vs_measured)
from .points import PointTable, predict_points
from .spatial import fit_exponential_correlation, residual_correlogram
from .stats import error_stats, summarise

__all__ = ["Calibration", "Comparison", "Correction", "PointTable", "assign_folds", "calibrate",
           "compare", "cross_validate", "error_stats", "fit_correction",
           "fit_exponential_correlation", "fit_points", "plot_correlogram", "plot_error_map",
           "plot_error_vs_distance", "plot_predicted_vs_measured", "predict_points",
           "residual_correlogram", "route_segments", "summarise"]

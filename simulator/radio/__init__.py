"""Radio models: propagation, antennas, location variability, the link budget and serving
(best server, SINR, capacity), the station and technology catalogues and site placement.

Pure, vectorised numpy functions and the small domain objects that hold their parameters;
no I/O."""

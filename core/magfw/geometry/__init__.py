"""Time scales, SPICE kernels, coordinate frames and the IGRF dipole."""

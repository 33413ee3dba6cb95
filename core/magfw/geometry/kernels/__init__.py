"""SPICE kernel management: kernel files and the generic kernels, selection by coverage, the
kernel pool a unit owns, coverage checks, and kernel writers for simulators and tests.

Each concept is its own module (:mod:`magfw.geometry.kernels.files`, ``.selection``, ``.pool``,
``.coverage``, ``.writers``); this package is their public face: ``api.kernels``.
"""

from __future__ import annotations

from magfw.geometry.kernels.coverage import (
    all_covered,
    covered_mask,
    require_coverage,
)
from magfw.geometry.kernels.files import (
    DEFAULT_PREDICTIVE_PATTERN,
    DEFAULT_VERSION_PATTERN,
    KINDS,
    MAGFW_FRAMES_TF,
    MAGFW_PCK,
    RTN_FRAME_ID0,
    KernelFile,
    Kind,
    classify,
    generic_kernels,
)
from magfw.geometry.kernels.pool import (
    KernelPool,
    active_pool,
    kernel_pool,
    require_pool,
)
from magfw.geometry.kernels.selection import (
    body_code,
    kernel_series,
    select_kernels,
)
from magfw.geometry.kernels.spice_errors import spice_error_text
from magfw.geometry.kernels.writers import (
    ck_frame_definition,
    fk_lines,
    rtn_frame_definition,
    tk_frame_definition,
    write_ck,
    write_fk,
    write_sclk,
    write_spk,
)

__all__ = [
    "DEFAULT_PREDICTIVE_PATTERN",
    "DEFAULT_VERSION_PATTERN",
    "KINDS",
    "KernelFile",
    "KernelPool",
    "Kind",
    "MAGFW_FRAMES_TF",
    "MAGFW_PCK",
    "RTN_FRAME_ID0",
    "active_pool",
    "all_covered",
    "body_code",
    "ck_frame_definition",
    "classify",
    "covered_mask",
    "fk_lines",
    "generic_kernels",
    "kernel_pool",
    "kernel_series",
    "require_coverage",
    "require_pool",
    "rtn_frame_definition",
    "select_kernels",
    "spice_error_text",
    "tk_frame_definition",
    "write_ck",
    "write_fk",
    "write_sclk",
    "write_spk",
]

"""The plugin API: the one import a mission plugin needs.

Everything a plugin uses comes from here::

    from magfw.api import Inputs, Level, Mission, NoCalibrate, Product, UnitContext, hookimpl

Names not listed in ``__all__`` (and modules other than this one) are magfw's own and may
change without notice. The reference of every name here is ``docs/api.md``, generated from
the docstrings by ``python -m magfw.tools.apidoc`` and checked by a test.

The services (time conversions, SPICE frames and kernels, the IGRF dipole, attitude from
quaternions) are reached as modules: ``api.time`` (:mod:`magfw.geometry.time`), ``api.frames``
(:mod:`magfw.geometry.frames`), ``api.kernels`` (:mod:`magfw.geometry.kernels`), ``api.igrf``
(:mod:`magfw.geometry.igrf`), ``api.attitude`` (:mod:`magfw.geometry.attitude`, with
``QuaternionSeries``). They, the readers and writers are loaded on first use, so that
``import magfw.api`` stays light.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

from magfw import __version__
from magfw.config.sections import MissionSettings
from magfw.engine.jobs import RunRequest, RunSummary, UnitResult
from magfw.errors import (
    DefinitionError,
    FetchError,
    InputError,
    KernelError,
    MagfwError,
    MissingInputError,
    PluginError,
    UsageError,
)
from magfw.fetch import Archive, FetchedFile, pick_highest_version
from magfw.io.finder import FoundProduct, date_fields, find_products, highest, newest_products
from magfw.period import MONTH_ABBR, MONTH_NAMES, DefaultPeriod, Period, Unit, day_ranges, parse_period
from magfw.plugin.context import (
    CALIBRATION_ROLE,
    KERNEL_ROLE,
    InputFile,
    Inputs,
    PlotPanel,
    PlotSpec,
    Product,
    UnitContext,
    UnitInfo,
)
from magfw.plugin.definitions import ProductDefinition, load_definitions, shipped_definitions
from magfw.plugin.hookspecs import hookimpl
from magfw.plugin.level import (
    LazyLevel,
    LevelObject,
    NoAverage,
    NoCalibrate,
    NoCorrect,
    NoMiddleSteps,
    NoQuality,
    NoTransform,
    lazy_level,
)
from magfw.plugin.mission import AnyLevel, Level, Mission, PluginRegistrar
from magfw.plugin.options import LevelOption

if TYPE_CHECKING:
    from magfw.cli import output_tree, run_level_command, say, warn
    from magfw.config import setting as mission_setting
    from magfw.geometry import attitude, frames, igrf, kernels, time
    from magfw.geometry.attitude import QuaternionSeries
    from magfw.handoff.delivery import deliver_zips
    from magfw.handoff.deliveryzip import ZipEntry
    from magfw.handoff.deliveryzip import check_password as check_zip_password
    from magfw.handoff.deliveryzip import choose as choose_zip_encryption
    from magfw.handoff.deliveryzip import describe as describe_zip_encryption
    from magfw.handoff.deliveryzip import note as zip_encryption_note
    from magfw.handoff.deliveryzip import password_from_env as zip_password_from_env
    from magfw.handoff.deliveryzip import preflight as zip_preflight
    from magfw.handoff.deliveryzip import report_encryption as report_zip_encryption
    from magfw.handoff.deliveryzip import write_zip as write_delivery_zip
    from magfw.handoff.notify import Message as NotifyMessage
    from magfw.handoff.notify import NotifySettings, ZipNotice, delivered_zips, notify_settings
    from magfw.handoff.notify import send as send_notifications
    from magfw.io.atomic import atomic_path, write_bytes_atomic
    from magfw.io.cdf import check_cdf, read_cdf
    from magfw.io.netcdf import read_netcdf
    from magfw.io.products import ProductData, read_product, write_product
    from magfw.plugin.manager import mission_registry

#: Lazily imported services: name -> (module, attribute or None for the module itself).
_LAZY: dict[str, tuple[str, str | None]] = {
    "time": ("magfw.geometry.time", None),
    "frames": ("magfw.geometry.frames", None),
    "kernels": ("magfw.geometry.kernels", None),
    "igrf": ("magfw.geometry.igrf", None),
    "attitude": ("magfw.geometry.attitude", None),
    "QuaternionSeries": ("magfw.geometry.attitude", "QuaternionSeries"),
    "atomic_path": ("magfw.io.atomic", "atomic_path"),
    "write_product": ("magfw.io.products", "write_product"),
    "mission_setting": ("magfw.config", "setting"),
    "mission_registry": ("magfw.plugin.manager", "mission_registry"),
    "read_cdf": ("magfw.io.cdf", "read_cdf"),
    "check_cdf": ("magfw.io.cdf", "check_cdf"),
    "read_netcdf": ("magfw.io.netcdf", "read_netcdf"),
    "read_product": ("magfw.io.products", "read_product"),
    "ProductData": ("magfw.io.products", "ProductData"),
    "write_bytes_atomic": ("magfw.io.atomic", "write_bytes_atomic"),
    "run_level_command": ("magfw.cli", "run_level_command"),
    "ZipEntry": ("magfw.handoff.deliveryzip", "ZipEntry"),
    "write_delivery_zip": ("magfw.handoff.deliveryzip", "write_zip"),
    "check_zip_password": ("magfw.handoff.deliveryzip", "check_password"),
    "describe_zip_encryption": ("magfw.handoff.deliveryzip", "describe"),
    "choose_zip_encryption": ("magfw.handoff.deliveryzip", "choose"),
    "zip_encryption_note": ("magfw.handoff.deliveryzip", "note"),
    "zip_password_from_env": ("magfw.handoff.deliveryzip", "password_from_env"),
    "zip_preflight": ("magfw.handoff.deliveryzip", "preflight"),
    "report_zip_encryption": ("magfw.handoff.deliveryzip", "report_encryption"),
    "NotifyMessage": ("magfw.handoff.notify", "Message"),
    "NotifySettings": ("magfw.handoff.notify", "NotifySettings"),
    "notify_settings": ("magfw.handoff.notify", "notify_settings"),
    "ZipNotice": ("magfw.handoff.notify", "ZipNotice"),
    "delivered_zips": ("magfw.handoff.notify", "delivered_zips"),
    "deliver_zips": ("magfw.handoff.delivery", "deliver_zips"),
    "send_notifications": ("magfw.handoff.notify", "send"),
    "output_tree": ("magfw.cli", "output_tree"),
    "say": ("magfw.cli", "say"),
    "warn": ("magfw.cli", "warn"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        mod: ModuleType = importlib.import_module(module)
        value = mod if attr is None else getattr(mod, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'magfw.api' has no attribute {name!r}")


__all__ = [
    "CALIBRATION_ROLE",
    "KERNEL_ROLE",
    "MONTH_ABBR",
    "MONTH_NAMES",
    "AnyLevel",
    "Archive",
    "DefaultPeriod",
    "DefinitionError",
    "FetchError",
    "FetchedFile",
    "FoundProduct",
    "InputError",
    "InputFile",
    "Inputs",
    "KernelError",
    "LazyLevel",
    "Level",
    "LevelObject",
    "LevelOption",
    "MagfwError",
    "Mission",
    "MissingInputError",
    "MissionSettings",
    "NoAverage",
    "NoCalibrate",
    "NoCorrect",
    "NoMiddleSteps",
    "NoQuality",
    "NoTransform",
    "NotifyMessage",
    "NotifySettings",
    "Period",
    "PlotPanel",
    "PlotSpec",
    "PluginError",
    "PluginRegistrar",
    "Product",
    "ProductData",
    "ProductDefinition",
    "QuaternionSeries",
    "RunRequest",
    "RunSummary",
    "Unit",
    "UnitContext",
    "UnitInfo",
    "UnitResult",
    "UsageError",
    "ZipEntry",
    "ZipNotice",
    "__version__",
    "atomic_path",
    "attitude",
    "check_cdf",
    "check_zip_password",
    "choose_zip_encryption",
    "date_fields",
    "day_ranges",
    "deliver_zips",
    "delivered_zips",
    "describe_zip_encryption",
    "find_products",
    "frames",
    "highest",
    "hookimpl",
    "igrf",
    "kernels",
    "lazy_level",
    "load_definitions",
    "mission_registry",
    "mission_setting",
    "newest_products",
    "notify_settings",
    "parse_period",
    "pick_highest_version",
    "read_cdf",
    "read_netcdf",
    "output_tree",
    "read_product",
    "report_zip_encryption",
    "run_level_command",
    "say",
    "send_notifications",
    "shipped_definitions",
    "time",
    "warn",
    "write_bytes_atomic",
    "write_delivery_zip",
    "write_product",
    "zip_encryption_note",
    "zip_password_from_env",
    "zip_preflight",
]

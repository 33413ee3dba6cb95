"""A small mission whose ``package`` level writes a month's delivery zip and whose
``magfw_run_finished`` hook announces it as the bundled missions do (``magfw.api.deliver_zips``
then ``send_notifications``): the delivery step tested without a month of STEREO processing.

The archive holds ``PARCEL_YYYYMMDD_Vnn.txt`` files (the highest version of a day wins); the
zip ``parcel_YYYYmmm.zip`` holds the month's files. Its ``stereo_download_url`` counterpart is
``[notify.settings] parcel_download_url``.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from magfw.api import (
    MONTH_ABBR,
    InputFile,
    Inputs,
    Level,
    Mission,
    MissionSettings,
    NoMiddleSteps,
    NotifyMessage,
    Period,
    PluginRegistrar,
    Product,
    ProductDefinition,
    RunSummary,
    UnitContext,
    deliver_zips,
    hookimpl,
    notify_settings,
    pick_highest_version,
    send_notifications,
)

ZIP = ProductDefinition.model_validate(
    {
        "id": "parcel_zip",
        "mission": "parcel",
        "level": "package",
        "format": "bytes",
        "filename": {
            "template": "prep_zips/parcel_{yyyy}{mmm}.zip",
            "fields": {"yyyy": {"kind": "int", "width": 4}, "mmm": {"width": 3}},
        },
        "time_variable": None,
        "variables": [],
        "version": {"policy": "fixed", "start": 1},
    }
)
PATTERN = r"PARCEL_(?P<key>\d{8})_V(?P<version>\d+)\.txt$"


class ParcelSettings(MissionSettings):
    notify_events = ("parcel_delivery",)
    notify_settings = ("parcel_download_url",)


class Package(NoMiddleSteps):
    """The month's zip of the archive's day files."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        names = ctx.archive.glob("", f"PARCEL_{ctx.unit.start:%Y%m}??_V*.txt")
        best = pick_highest_version(names, PATTERN)
        if not best:
            return Inputs(skip_reason="no day file this month")
        return Inputs(files=[InputFile.from_fetched(ctx.archive.get(n), "data") for n in best.values()])

    def read(self, ctx: UnitContext, inputs: Inputs) -> list[tuple[str, bytes]]:
        return [(f.name, f.path.read_bytes()) for f in inputs.files]

    def write(self, ctx: UnitContext, data: list[tuple[str, bytes]]) -> list[Product]:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            for name, body in data:
                z.writestr(name, body)
        return [Product(definition=ctx.product("parcel_zip"), payload=buffer.getvalue())]


class Parcel:
    """The plugin: mission ``parcel`` with its ``package`` level and its delivery mail."""

    @hookimpl
    def magfw_register_missions(self, registry: PluginRegistrar) -> None:
        registry.add(
            Mission(
                id="parcel",
                title="Parcel",
                levels={
                    "package": Level(
                        name="package",
                        unit="month",
                        per_spacecraft=False,
                        products=["parcel_zip"],
                        pipeline=Package(),
                    )
                },
                products=[ZIP],
                settings=ParcelSettings,
            )
        )

    @hookimpl
    def magfw_simulate(
        self, mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int
    ) -> Path:
        out_dir.mkdir(parents=True, exist_ok=True)
        for day in period.days():
            (out_dir / f"PARCEL_{day:%Y%m%d}_V01.txt").write_text(f"{day} {seed}\n" * 500)
        return out_dir

    @hookimpl
    def magfw_run_finished(self, summary: RunSummary) -> None:
        url = notify_settings().setting("parcel_download_url")
        zips = deliver_zips(
            summary, "parcel", "package", event="parcel_delivery", url=url, url_setting="parcel_download_url"
        )
        messages = []
        for z in zips:
            month = f"{z.unit_start.year}{MONTH_ABBR[z.unit_start.month - 1]}"
            body = f"file: {z.path.name}\nsize: {z.size}\nSHA-256: {z.sha256}\ndownload: {z.download}\n"
            if z.remote:
                body += f"uploaded: {z.uploaded_text}\n"
            messages.append(NotifyMessage("parcel_delivery", f"parcel {month}: {z.path.name}", body))
        if messages:
            send_notifications(messages)

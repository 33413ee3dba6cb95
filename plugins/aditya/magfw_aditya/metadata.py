"""The XML metadata file of an L2 product: inputs with versions and checksums, the 1-10
quality factor (Table 4), missing_data_percentage and the regeneration remark.

Layout (ours; the manual removed the XML details in v1.1)::

    <aditya_mag_l2_metadata format="magfw-aditya-l2-metadata/1">
      <product name="L2_AL1_MAG_20240801_V00.nc" version="V00" date="2024-08-01"/>
      <quality factor="10" scale="1-10" missing_data_percentage="3.125"
               definition="Table 4: ..."/>
      <remarks>first version</remarks>
      <processing software="magfw 0.1.0" created="..." gsm="..." source="observed|SIMULATED"/>
      <inputs>
        <file role="l1" version="V00" sha256="..." size="...">L1_...nc</file>
        <file role="kernel" version="v1" sha256="..." size="...">al1_att_..._v1.bc</file>
      </inputs>
    </aditya_mag_l2_metadata>
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, date, datetime

from magfw.api import InputFile

FORMAT = "magfw-aditya-l2-metadata/1"
TABLE4 = (
    "Table 4 of the MAG data product description: < 10 % bad or missing samples -> 10, "
    "10-25 % -> 9, 25-50 % -> 8, > 50 % -> 1-7 (7 at 50 %, 1 at 100 %, linear)"
)


def l2_metadata_xml(
    *,
    product_name: str,
    version: int,
    day: date,
    quality_factor: int,
    missing_percent: float,
    remarks: str,
    software: str,
    gsm: str,
    simulated: bool,
    inputs: Sequence[InputFile],
) -> bytes:
    """The XML document (UTF-8 bytes); ``inputs`` every input of the unit, in fetch order."""
    root = ET.Element("aditya_mag_l2_metadata", format=FORMAT)
    ET.SubElement(root, "product", name=product_name, version=f"V{version:02d}", date=day.isoformat())
    ET.SubElement(
        root,
        "quality",
        factor=str(int(quality_factor)),
        scale="1-10",
        missing_data_percentage=f"{missing_percent:.3f}",
        definition=TABLE4,
    )
    ET.SubElement(root, "remarks").text = remarks
    ET.SubElement(
        root,
        "processing",
        software=software,
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        gsm=gsm,
        source="SIMULATED by magfw: not real data" if simulated else "observed",
    )
    files = ET.SubElement(root, "inputs")
    for f in inputs:
        el = ET.SubElement(
            files, "file", role=f.role, version=f.version or "", sha256=f.sha256, size=str(f.size)
        )
        el.text = f.name
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return text + b"\n"

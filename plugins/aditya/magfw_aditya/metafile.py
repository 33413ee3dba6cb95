"""The ISSDC meta-file of each L1 and L2 netCDF: the layout every Aditya-L1 instrument
delivers to ISSDC (ASPEX-SWIS user manual, section 7 "Meta-file parameter definitions",
Table 3: "This meta-file format is standard for all Aditya-L1 instruments and is as per the
requirement by the dissemination software deployed at ISSDC").

Table 3, group by group, and where each value comes from here:

=====================  ===========================================  ==========================
group                  parameter (Table 3)                          MAG value
=====================  ===========================================  ==========================
Identification         Mission                                      ``Aditya-L1``
details                Payload Name                                 ``MAG``
                       Payload description                          the MAG manual's words
                       Proposal id                                  ``[missions.aditya]
                                                                    proposal_id`` (left out
                                                                    when not configured)
                       Observation id                               the L0/L1 name's obsId (L2:
                                                                    those of its L1 inputs)
                       Version                                      ``Vmn`` of the file
Observation details    Time coordinates: start_date_time,           first and last time stamp;
                       stop_date_time, exposure_time                seconds of valid data
File details           Name, file size, md5 checksum, creation      of the netCDF as written
                       date and content type                        (its ``date_created``)
                       Input files (number), input file names       every input of the file
Processing details     Software version and level                   ``magfw X``; ``L1``/``L2``
                       Quality assessment and description           Table 4 of the MAG manual
Remarks                File type                                    netCDF and the product; the
                                                                    regeneration reason (MAG
                                                                    manual 3.1: "documented
                                                                    within the remarks")
=====================  ===========================================  ==========================

Not written: "Energy scan" (section 7.2: SWIS only, its energy-scan coverage) and "Event
flag" (section 7.4: planned, "identification and labeling of data-sets for transient events
is still not implemented"); writing either for MAG would be a placeholder.

The meta-file is XML ("Parameters written in the XML file associated with each CDF file",
Table 3 caption), named like its data file with ``.xml``. It is made by the runner after the
data file is staged (``Product.payload_from``), so size and md5 are those of the file
delivered.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py

#: Table 3 of the ASPEX-SWIS user manual (section 7) as written here: element names by group,
#: in order. ``proposal_id`` is left out when not configured.
FIELDS: dict[str, tuple[str, ...]] = {
    "identification_details": (
        "mission",
        "payload_name",
        "payload_description",
        "proposal_id",
        "observation_id",
        "version",
    ),
    "observation_details": ("start_date_time", "stop_date_time", "exposure_time"),
    "file_details": (
        "file_name",
        "file_size",
        "md5_checksum",
        "creation_date",
        "content_type",
        "input_files",
    ),
    "processing_details": ("software_version", "level", "quality_assessment", "quality_description"),
    "remarks": ("file_type", "remark"),
}
MISSION = "Aditya-L1"
PAYLOAD = "MAG"
PAYLOAD_DESCRIPTION = (
    "Magnetometer (MAG) of Aditya-L1: two identical tri-axial fluxgate "
    "magnetometers on a boom, MAG1 at 6 m and MAG2 at 3 m from the spacecraft, "
    "measuring the interplanetary magnetic field at L1"
)
#: Table 4 of the MAG manual: quality level -> description.
TABLE4 = {
    10: "Very good quality; < 10 % bad/missing samples",
    9: "Good quality; 10 - 25 % bad/missing samples",
    8: "Average quality; 25 - 50 % bad/missing samples",
}
POOR = "Poor quality; > 50 % bad samples"


@dataclass(frozen=True, kw_only=True)
class MetaInfo:
    """What the level knows of one data file when it returns its products."""

    data_name: str  #: the data file's relative path in the tree (as staged)
    level: str  #: "L1" or "L2"
    version: int
    observation_ids: Sequence[str]
    start: str  #: ISO UTC of the first time stamp
    stop: str  #: ISO UTC of the last time stamp
    exposure_s: float  #: seconds of valid data
    content_type: str
    inputs: Sequence[str]
    software: str
    quality: int
    remark: str
    proposal_id: str | None = None


def quality_description(factor: int) -> str:
    """Table 4 of the MAG manual for a quality level 1-10."""
    return TABLE4.get(int(factor), POOR)


def md5_file(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def created_of(path: Path) -> str:
    """The netCDF's ``date_created`` (what the runner stamped), else its modification time."""
    try:
        with h5py.File(path, "r") as f:
            value = f.attrs.get("date_created")
    except OSError:
        value = None
    if isinstance(value, bytes):
        value = value.decode()
    return str(value) if value else ""


def metafile_xml(info: MetaInfo, data_path: Path) -> bytes:
    """The meta-file of the staged data file ``data_path`` (UTF-8 XML)."""
    root = ET.Element(
        "metafile",
        standard="ISSDC Aditya-L1 meta-file",
        reference="ASPEX-SWIS user manual section 7, Table 3",
    )
    ident = ET.SubElement(root, "identification_details")
    ET.SubElement(ident, "mission").text = MISSION
    ET.SubElement(ident, "payload_name").text = PAYLOAD
    ET.SubElement(ident, "payload_description").text = PAYLOAD_DESCRIPTION
    if info.proposal_id:
        ET.SubElement(ident, "proposal_id").text = info.proposal_id
    ET.SubElement(ident, "observation_id").text = " ".join(dict.fromkeys(info.observation_ids))
    ET.SubElement(ident, "version").text = f"V{info.version:02d}"
    obs = ET.SubElement(root, "observation_details")
    ET.SubElement(obs, "start_date_time").text = info.start
    ET.SubElement(obs, "stop_date_time").text = info.stop
    ET.SubElement(obs, "exposure_time", unit="s").text = f"{info.exposure_s:.3f}"
    fd = ET.SubElement(root, "file_details")
    ET.SubElement(fd, "file_name").text = Path(info.data_name).name
    ET.SubElement(fd, "file_size", unit="bytes").text = str(data_path.stat().st_size)
    ET.SubElement(fd, "md5_checksum").text = md5_file(data_path)
    ET.SubElement(fd, "creation_date").text = created_of(data_path)
    ET.SubElement(fd, "content_type").text = info.content_type
    files = ET.SubElement(fd, "input_files", number=str(len(info.inputs)))
    for name in info.inputs:
        ET.SubElement(files, "input_file_name").text = Path(name).name
    proc = ET.SubElement(root, "processing_details")
    ET.SubElement(proc, "software_version").text = info.software
    ET.SubElement(proc, "level").text = info.level
    ET.SubElement(proc, "quality_assessment").text = str(int(info.quality))
    ET.SubElement(proc, "quality_description").text = quality_description(info.quality)
    rem = ET.SubElement(root, "remarks")
    ET.SubElement(rem, "file_type").text = f"netCDF ({info.content_type})"
    ET.SubElement(rem, "remark").text = info.remark
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return text + b"\n"


def payload_from(info: MetaInfo) -> Callable[[Mapping[str, Path]], bytes]:
    """For ``Product.payload_from``: the meta-file of the data file staged before it."""

    def make(staged: Mapping[str, Path]) -> bytes:
        return metafile_xml(info, staged[info.data_name])

    return make

"""Product-definition models: file-name templates, validation, shipped YAML, the JSON Schema."""

import json
from pathlib import Path

import pytest

from magfw.errors import DefinitionError
from magfw.plugin.definitions import (
    FileName,
    ProductDefinition,
    find_definition,
    load_definition,
    product_json_schema,
    shipped_definitions,
)

ROOT = Path(__file__).resolve().parents[1]

# The Aditya-L1 L1 name of the seed's Table 1: field widths exactly as the ICD gives them.
ADITYA_L1 = FileName(
    template="L1_{payload}{station}{pacq}{strip}{vcid}{apid}{yy}{doy}{hh}{mi}{ss}{ms}_{obsid}_V{version}.nc",
    fields={
        "payload": {"width": 5, "choices": ["MAG91"]},
        "station": {"width": 3},
        "pacq": {"width": 2},
        "strip": {"width": 5},
        "vcid": {"width": 2},
        "apid": {"width": 4},
        "yy": {"kind": "int", "width": 2},
        "doy": {"kind": "int", "width": 3},
        "hh": {"kind": "int", "width": 2},
        "mi": {"kind": "int", "width": 2},
        "ss": {"kind": "int", "width": 2},
        "ms": {"kind": "int", "width": 3},
        "obsid": {"width": 16},
        "version": {"kind": "int", "width": 2},
    },
)
STEREO_L1 = FileName(
    template="ST{sc}_L1_MAG{burst}_{frame}_{yyyy}{mm}{dd}_V{version}.cdf",
    fields={
        "sc": {"choices": ["A", "B"], "width": 1},
        "burst": {"choices": ["", "B"]},
        "frame": {"choices": ["SC", "RTN"]},
        "yyyy": {"kind": "int", "width": 4},
        "mm": {"kind": "int", "width": 2},
        "dd": {"kind": "int", "width": 2},
        "version": {"kind": "int", "width": 2},
    },
)
UCLA_DIR = FileName(
    template="L1_{frame}/{sc}{burst}fgy{yyyy}/{name}.ffd",
    fields={
        "frame": {"choices": ["sc", "rtn"]},
        "sc": {"choices": ["A", "B"]},
        "burst": {"choices": ["", "b"]},
        "yyyy": {"kind": "int", "width": 4},
        "name": {"pattern": r"[A-Za-z0-9_]+"},
    },
)


def test_aditya_icd_name_round_trip():
    fields = dict(
        payload="MAG91",
        station="BLR",
        pacq="01",
        strip="STR01",
        vcid="05",
        apid="0A1B",
        yy=24,
        doy=214,
        hh=6,
        mi=0,
        ss=1,
        ms=128,
        obsid="0000000000001234",
        version=0,
    )
    name = ADITYA_L1.format(**fields)
    assert name == "L1_MAG91BLR01STR01050A1B24214060001128_0000000000001234_V00.nc"
    assert ADITYA_L1.parse(name) == fields


@pytest.mark.parametrize("bad", [dict(station="BL"), dict(payload="MAG92"), dict(doy=1000)])
def test_aditya_icd_name_rejects_wrong_width(bad):
    fields = (
        dict(
            payload="MAG91",
            station="BLR",
            pacq="01",
            strip="STR01",
            vcid="05",
            apid="0A1B",
            yy=24,
            doy=214,
            hh=6,
            mi=0,
            ss=1,
            ms=128,
            obsid="0000000000001234",
            version=0,
        )
        | bad
    )
    with pytest.raises(DefinitionError):
        ADITYA_L1.format(**fields)


def test_aditya_parse_rejects_short_field():
    assert ADITYA_L1.parse("L1_MAG91BL01STR01050A1B24214060001128_0000000000001234_V00.nc") is None


def test_stereo_names_with_optional_burst():
    assert (
        STEREO_L1.format(sc="A", burst="", frame="RTN", yyyy=2024, mm=1, dd=5, version=6)
        == "STA_L1_MAG_RTN_20240105_V06.cdf"
    )
    assert STEREO_L1.parse("STB_L1_MAGB_SC_20140101_V06.cdf")["burst"] == "B"
    assert STEREO_L1.parse("/data/out/STA_L1_MAG_RTN_20240105_V06.cdf")["dd"] == 5
    assert STEREO_L1.parse("STC_L1_MAG_RTN_20240105_V06.cdf") is None


def test_ucla_directory_scheme():
    rel = UCLA_DIR.format(frame="rtn", sc="A", burst="b", yyyy=2024, name="STA_20240105")
    assert rel == "L1_rtn/Abfgy2024/STA_20240105.ffd"
    assert UCLA_DIR.parse("/x/y/" + rel) == {
        "frame": "rtn",
        "sc": "A",
        "burst": "b",
        "yyyy": 2024,
        "name": "STA_20240105",
    }


def test_glob_fills_given_fields():
    assert STEREO_L1.glob(sc="A", frame="SC", burst="") == "STA_L1_MAG_SC_*_V*.cdf"


def test_template_must_define_its_fields():
    with pytest.raises(ValueError, match="undefined fields"):
        FileName(template="X_{a}_{b}", fields={"a": {"width": 1}})
    with pytest.raises(ValueError, match="not used"):
        FileName(template="X_{a}", fields={"a": {"width": 1}, "b": {"width": 1}})


def _minimal(**over):
    base = {
        "id": "p",
        "mission": "m",
        "level": "l1",
        "format": "cdf",
        "filename": {
            "template": "M_{yyyy}_V{version}.cdf",
            "fields": {"yyyy": {"kind": "int", "width": 4}, "version": {"kind": "int", "width": 2}},
        },
        "variables": [
            {"name": "Epoch", "dtype": "tt2000", "dims": ["time"]},
            {"name": "B", "dtype": "float32", "dims": ["time", "c"], "depend": {"DEPEND_0": "Epoch"}},
        ],
        "dims": {"time": None, "c": 3},
    }
    base.update(over)
    return base


def test_definition_validation_catches_inconsistencies():
    ProductDefinition.model_validate(_minimal())
    bad_dim = _minimal(dims={"time": None})
    with pytest.raises(ValueError, match="undeclared dimension"):
        ProductDefinition.model_validate(bad_dim)
    bad_ref = _minimal()
    bad_ref["variables"][1]["depend"] = {"DEPEND_0": "Time"}
    with pytest.raises(ValueError, match="unknown variable"):
        ProductDefinition.model_validate(bad_ref)
    bad_key = _minimal()
    bad_key["variables"][1]["depend"] = {"DEPEND0": "Epoch"}
    with pytest.raises(ValueError, match="DEPEND_"):
        ProductDefinition.model_validate(bad_key)
    with pytest.raises(ValueError, match="extra"):
        ProductDefinition.model_validate(_minimal(colour="blue"))


def test_load_definition_one_line_errors(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("id: p\nmission: m\nlevel: l1\nformat: xls\n")
    with pytest.raises(DefinitionError) as exc:
        load_definition(p)
    assert str(p) in str(exc.value) and "format" in str(exc.value) and "\n" not in str(exc.value)
    p.write_text("[unclosed")
    with pytest.raises(DefinitionError, match="cannot read YAML"):
        load_definition(p)


def test_digest_changes_with_definition():
    a = ProductDefinition.model_validate(_minimal())
    b = ProductDefinition.model_validate(_minimal(description="changed"))
    assert a.digest() != b.digest() and a.digest() == ProductDefinition.model_validate(_minimal()).digest()


@pytest.mark.parametrize("mission", ["stereo", "aditya", "plastic"])
def test_every_shipped_definition_validates(mission):
    folder = ROOT / "schemas" / "magfw_schemas" / mission
    files = sorted(folder.glob("*.yaml"))
    assert files, f"no product definitions shipped for {mission}"
    loaded = shipped_definitions(mission)  # through the installed package data
    assert len(loaded) == len(files)
    assert len({d.id for d in loaded}) == len(loaded), "duplicate product ids"
    for d in loaded:
        assert d.mission == mission
        # a name the template formats is recognised as this product again
        fields = {
            k: (0 if f.kind == "int" else (f.choices[0] if f.choices else "X" * (f.width or 1)))
            for k, f in d.filename.fields.items()
            if f.pattern is None
        }
        if len(fields) == len(d.filename.fields):
            name = d.filename.format(**fields)
            found = find_definition(name, loaded)
            assert found is not None and found[0].filename.parse(name) == fields


def test_json_schema_is_current():
    path = ROOT / "schemas" / "product.schema.json"
    current = json.loads(path.read_text())
    assert current == product_json_schema(), (
        "schemas/product.schema.json is stale: run "
        "`python -m magfw.plugin.definitions schemas/product.schema.json`"
    )


def test_directory_is_kept_but_name_alone_is_recognised():
    fn = FileName(
        template="ST{sc}_L1_MAG_{frame}_{yyyy}{mm}{dd}_V{version}.cdf",
        directory="{frame_dir}/{sc}fgy{yyyy}",
        fields={
            "sc": {"choices": ["A", "B"]},
            "frame": {"choices": ["SC", "RTN"]},
            "frame_dir": {"choices": ["sc", "rtn"]},
            "yyyy": {"kind": "int", "width": 4},
            "mm": {"kind": "int", "width": 2},
            "dd": {"kind": "int", "width": 2},
            "version": {"kind": "int", "width": 2},
        },
    )
    rel = fn.format(sc="A", frame="RTN", frame_dir="rtn", yyyy=2024, mm=1, dd=5, version=6)
    assert rel == "rtn/Afgy2024/STA_L1_MAG_RTN_20240105_V06.cdf"
    assert fn.parse("/out/" + rel)["frame_dir"] == "rtn"
    alone = fn.parse("/tmp/STA_L1_MAG_RTN_20240105_V06.cdf")
    assert alone is not None and "frame_dir" not in alone and alone["dd"] == 5
    assert fn.glob(sc="A", frame_dir="rtn") == "rtn/Afgy*/STA_L1_MAG_*_*_V*.cdf"
    assert list(Path("/nonexistent").glob(fn.glob())) == []  # a valid pattern: no "**"
    with pytest.raises(ValueError, match="relative"):
        FileName(template="x", directory="/abs", fields={})


def test_unversioned_products_are_allowed_only_with_fixed_versions():
    plain = _minimal(filename={"template": "M_{yyyy}.asc", "fields": {"yyyy": {"kind": "int", "width": 4}}})
    ProductDefinition.model_validate(plain)
    with pytest.raises(ValueError, match="versions count up"):
        ProductDefinition.model_validate({**plain, "version": {"policy": "increment"}})


def test_a_quicklook_block_is_not_part_of_the_digest():
    """How a product is drawn is not the product: the quicklook block (like publish) is left
    out of the digest, so declaring or changing panels remakes no product."""
    import hashlib
    import json

    from magfw.plugin.definitions import Quicklook, QuicklookPanel, shipped_definitions

    for d in shipped_definitions("stereo"):
        plain = d.model_copy(update={"quicklook": None})
        before = {k: v for k, v in plain.model_dump(mode="json").items() if k not in ("quicklook", "publish")}
        old = hashlib.sha256(json.dumps(before, sort_keys=True).encode()).hexdigest()[:16]
        assert plain.digest() == old == d.digest()
    d = next(x for x in shipped_definitions("stereo") if x.id == "l1_mag_rtn")
    other = d.model_copy(update={"quicklook": Quicklook(panels=[QuicklookPanel(variables=["BFIELD"])])})
    assert other.digest() == d.digest()

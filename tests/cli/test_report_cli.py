"""``flightwatch report`` on the demo capture replayed into SQLite: the three formats, the
figures behind each line, the pictures beside the Markdown, and bad input."""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import run
from PIL import Image

from flightwatch.daemon.replay import replay_files
from flightwatch.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "config" / "samples" / "demo_minsk.tsv"
WINDOW = ("--registration", "RA-96016", "--since", "2020-08-18", "--until", "2020-08-27")


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("report")
    config = folder / "flightwatch.toml"
    config.write_text('[database]\nurl = "sqlite:///fw.db"\n\n'
                      '[receiver]\nname = "demo"\nlat = 53.888\nlon = 28.040\n',
                      encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("FLIGHTWATCH_DATABASE_URL", raising=False)
        replay_files(load_settings(config), [DEMO])
        yield config


def report(capsys, config: Path, out: Path, fmt: str, *selection: str) -> Path:
    code, printed, err = run(capsys, "report", *selection, "--format", fmt, "--out", str(out),
                             "--config", str(config))
    assert code == 0, err
    path = Path(printed.split(":")[0])
    assert path.parent == out and path.suffix == f".{fmt}"
    return path


def test_json_timeline_has_each_claim_with_its_source_and_figures(capsys, demo_config,
                                                                  tmp_path) -> None:
    path = report(capsys, demo_config, tmp_path, "json", *WINDOW)
    assert path.name == "report-RA-96016-2020-08-18-2020-08-27.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["icaos"] == ["157710"] and len(data["flights"]) == 1
    timeline = data["timeline"]
    kinds = [line["kind"] for line in timeline]
    # The demo's story (config/samples/README.md): heard over Russia, into Belarus at
    # 09:47, landed on 31R at UMMS at 10:14:45, heard rolling out until 10:18:24.
    assert kinds == ["first_heard", "alert", "fence_entry", "alert", "arrival", "alert",
                     "last_heard"]
    first, entry, arrival, last = (timeline[i] for i in (0, 2, 4, 6))
    assert first["figures"]["altitude_ft"] == 33000 and first["figures"]["lon"] > 32.5
    assert entry["text"].startswith("entered belarus: heard at 09:47:0")
    assert arrival["grade"] == "observed" and arrival["figures"] == {
        "airport": "UMMS", "time": "2020-08-19 10:14:45Z"}
    assert last["figures"]["on_ground"] is True and last["time"].startswith("2020-08-19 10:18")
    assert all(line["source"] == "demo/replay:demo_minsk.tsv (replayed capture)"
               for line in timeline)
    assert data["methods"][0]["title"] == "What a line is"


def test_markdown_names_the_pictures_written_beside_it(capsys, demo_config, tmp_path) -> None:
    path = report(capsys, demo_config, tmp_path, "md", *WINDOW)
    text = path.read_text(encoding="utf-8")
    [picture] = re.findall(r"!\[Map of flight 1\]\(([^)]+)\)", text)
    image = Image.open(tmp_path / picture)
    assert image.format == "PNG" and image.size == (800, 600)
    assert "| observed |" in text and "landed at UMMS at 10:14Z" in text
    assert "## Methods" in text and "docs/detection.md" in text


def test_html_is_one_file_with_its_pictures_inline(capsys, demo_config, tmp_path) -> None:
    path = report(capsys, demo_config, tmp_path, "html", *WINDOW)
    page = path.read_text(encoding="utf-8")
    assert list(tmp_path.iterdir()) == [path]  # nothing beside it
    assert not re.search(r"""(src|href)=["']?https?:""", page)  # nothing fetched
    [data] = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert Image.open(io.BytesIO(base64.b64decode(data))).size == (800, 600)
    assert "<script" not in page


def test_an_unknown_aircraft_gives_an_empty_report_not_an_error(capsys, demo_config,
                                                                tmp_path) -> None:
    path = report(capsys, demo_config, tmp_path, "html", "--registration", "RA-00000")
    assert "Nothing was stored for this aircraft" in path.read_text(encoding="utf-8")


def test_no_aircraft_named_is_a_usage_error(capsys, demo_config, tmp_path) -> None:
    code, _out, err = run(capsys, "report", "--out", str(tmp_path), "--config",
                          str(demo_config))
    assert code == 2 and "--registration" in err
    code, _out, err = run(capsys, "report", "--icao", "XYZ", "--out", str(tmp_path),
                          "--config", str(demo_config))
    assert code == 2 and "not a 24-bit ICAO address" in err

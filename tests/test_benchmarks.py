"""The throughput benchmark still runs end to end (on a tiny capture; no timing asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import throughput  # noqa: E402


def test_throughput_benchmark_measures_a_small_capture(tmp_path: Path) -> None:
    capture = tmp_path / "tiny.tsv"
    throughput.make_tsv(capture, n_aircraft=20, n_frames=3_000)
    result = throughput.measure(capture, tmp_path, "tiny", "", rounds=1)
    assert result["frames"] == 3_000
    assert result["positions"] > 0 and result["positions_bytes_per_position"] > 0
    assert 0 < result["ratio"] < 10 and f"{result['ratio']:.2f}" == result["ratios"]
    assert result["peak_rss_mb"] > result["bare_peak_rss_mb"] > 0
    assert result["wal_bytes"] == 0


def test_web_memory_benchmark_measures_both_daemons(tmp_path: Path) -> None:
    import web_memory

    capture = tmp_path / "tiny.beast"
    throughput.make_capture(capture, n_aircraft=10, n_frames=2_000)
    result = web_memory.measure(capture, tmp_path, seconds=1.0)
    assert result["without"]["exit"] == 0 and result["with"]["exit"] == 0
    assert result["with"]["requests"] > 0 and result["with"]["errors"] == []
    assert result["without"]["rss_mb"] > 0 and result["with"]["rss_mb"] > 0


def test_web_memory_benchmark_measures_a_small_export(tmp_path: Path) -> None:
    import web_memory

    result = web_memory.measure_export(tmp_path, export_mb=0.5)
    assert result["exit"] == 0 and 0.4 < result["export_mb"] < 0.6
    assert result["three_mb"] == [result["export_mb"]] * 3
    assert result["peak_after_three_mb"] >= result["peak_after_one_mb"] > 0


def test_import_speed_benchmark_measures_a_small_archive(tmp_path: Path) -> None:
    import import_speed

    archive = tmp_path / "globe.tar"
    import_speed.make_archive(archive, n_aircraft=3, points=50)
    imported = import_speed.measure_import(archive, tmp_path)
    assert imported["aircraft"] == 3 and imported["points"] == 3 * 51
    assert 0 < imported["plain_rows"] <= imported["positions"]
    assert imported["positions_per_s"] > 0 and imported["plain_per_s"] > 0
    capture = tmp_path / "traffic.sbs"
    import_speed.make_sbs(capture, n_aircraft=3, points=50)
    replayed = import_speed.measure_replay(capture, tmp_path)
    assert replayed["positions"] > 100 and replayed["peak_rss_mb"] > 0


def run_benchmark(name: str, *args: str) -> str:
    """A benchmark script as a program, on a tiny workload; its printed figures."""
    import subprocess

    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / name), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_clean_close_benchmark_reports_no_wal_left() -> None:
    out = run_benchmark("clean_close.py", "--frames", "3000", "--aircraft", "10")
    assert out.count("target <= 4,096: ok") == 2, out


def test_startup_benchmark_measures_every_command() -> None:
    out = run_benchmark("startup.py", "--runs", "1")
    for command in ("python -c pass", "--help", "history", "watchlist list", "status"):
        assert f"\n{command} " in out, out


def test_hostile_benchmark_measures_every_attack() -> None:
    out = run_benchmark("hostile.py", "--megabytes", "4")
    assert "100,000 aircraft in one answer" in out and "20,000 kept" in out, out
    assert out.count(" MB ") >= 11 and "Traceback" not in out, out


def test_alert_picture_benchmark_measures_pictures() -> None:
    import alert_picture

    result = alert_picture.measure(pictures=2)
    assert result["pictures"] == 2 and result["png_kb_median"] > 1
    assert result["picture_ms_median"] > 0 and result["pillow_import_ms"] > 0
    assert result["end"]["VmHWM"] >= result["modules_loaded"]["VmHWM"] > 0
    assert result["recent_track_kb_per_aircraft"] > 0


def test_airports_memory_benchmark_measures_the_world_set(tmp_path: Path) -> None:
    import airports_memory

    seconds, kept_mb, peak_mb = airports_memory.in_process()
    assert seconds > 0 and 0 < kept_mb < peak_mb
    (tmp_path / "fw.toml").write_text('[database]\nurl = "sqlite:///fw.db"\n', encoding="utf-8")
    wall, cpu, rss = airports_memory.flightwatch(
        airports_memory.REPO, tmp_path, "airports", "list", "--near", "53.88,28.03",
        "--config", "fw.toml")
    assert wall > 0 and cpu > 0 and rss > 0

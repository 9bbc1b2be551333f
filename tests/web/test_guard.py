"""Who may read: loopback without a login; beyond loopback only with a password (basic
auth or the same value as a bearer token) or an explicit ``allow_public``."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cli.cli_helpers import run
from site_helpers import REPO, Site, start_serve, stop, write_config

from flightwatch.settings import ConfigError, load_settings
from flightwatch.web.guard import content_security_policy, tiles_origin
from flightwatch.web.server import check_exposure, is_loopback

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    config = write_config(tmp_path_factory.mktemp("locked"))
    served = start_serve(config, env={"FLIGHTWATCH_WEB_PASSWORD": PASSWORD})
    try:
        yield served
    finally:
        stop(served.process)


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.parametrize("headers", [
    {}, basic("flightwatch", "wrong"), basic("admin", PASSWORD),
    {"Authorization": "Bearer wrong"}, {"Authorization": "Basic !!notbase64"},
    {"Authorization": PASSWORD},
])
@pytest.mark.parametrize("path", ["/", "/api/alerts", "/static/now.js", "/leaflet/leaflet.js"])
def test_no_login_no_content(locked: Site, path: str, headers: dict[str, str]) -> None:
    answer = requests.get(locked.url + path, headers=headers, timeout=10)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith('Basic realm="flightwatch"')
    assert answer.text == "login required\n"
    assert "script-src 'self'" in answer.headers["content-security-policy"]


@pytest.mark.parametrize("headers", [
    basic("flightwatch", PASSWORD), {"Authorization": f"Bearer {PASSWORD}"},
])
def test_basic_auth_or_bearer_token(locked: Site, headers: dict[str, str]) -> None:
    for path in ("/", "/api/alerts", "/static/now.js"):
        assert requests.get(locked.url + path, headers=headers, timeout=10).status_code == 200


@pytest.mark.parametrize("listen", ["127.0.0.1:8080", "127.9.9.9:80", "[::1]:8080",
                                    "localhost:8080"])
def test_loopback_needs_no_login(tmp_path: Path, listen: str) -> None:
    check_exposure(load_settings(write_config(tmp_path)), listen, env={})


@pytest.mark.parametrize("listen", ["0.0.0.0:8080", "192.168.1.20:8080", "[::]:8080",
                                    "raspberrypi.local:8080"])
def test_beyond_loopback_needs_a_password_or_allow_public(tmp_path: Path, listen: str) -> None:
    settings = load_settings(write_config(tmp_path))
    with pytest.raises(ConfigError, match="FLIGHTWATCH_WEB_PASSWORD"):
        check_exposure(settings, listen, env={})
    check_exposure(settings, listen, env={"FLIGHTWATCH_WEB_PASSWORD": "x"})
    public = load_settings(write_config(tmp_path, web="allow_public = true\n"))
    check_exposure(public, listen, env={})
    assert not is_loopback(listen.rpartition(":")[0].strip("[]"))


def test_serve_refuses_beyond_loopback_before_binding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FLIGHTWATCH_WEB_PASSWORD", raising=False)
    config = write_config(tmp_path)
    code, _out, err = run(capsys, "serve", "--config", str(config), "--listen", "0.0.0.0:1")
    assert code == 2
    assert "web.listen: 0.0.0.0:1 is reachable beyond this machine" in err


@pytest.mark.parametrize("listen", ["8080", "localhost", "host:port", ":8080", "a:99999"])
def test_a_bad_listen_address_names_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], listen: str,
) -> None:
    config = write_config(tmp_path, web=f'listen = "{listen}"\n')
    code, _out, err = run(capsys, "check-config", "--config", str(config))
    assert code == 2 and "web.listen" in err and "host:port" in err


@pytest.mark.parametrize(("url", "origin"), [
    ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
    ("https://{s}.tile.example.org:8443/{z}/{x}/{y}.png", "https://*.tile.example.org:8443"),
    ("http://127.0.0.1:8081/tiles/{z}/{x}/{y}.png", "http://127.0.0.1:8081"),
    ("", ""), ("javascript:alert(1)", ""),
])
def test_the_policy_lets_images_come_only_from_the_tile_server(url: str, origin: str) -> None:
    assert tiles_origin(url) == origin
    policy = content_security_policy(url)
    assert f"img-src 'self' data:{' ' + origin if origin else ''};" in policy


def test_the_cli_does_not_import_the_web_stack() -> None:
    probe = ("import sys; from flightwatch.cli.main import build_parser; build_parser(); "
             "print(sorted(m for m in ('starlette', 'uvicorn', 'flightwatch.web') "
             "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_serve_on_a_taken_port_fails(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "flightwatch.cli", "serve", "--config", str(config),
             "--listen", f"127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=60, cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    assert result.returncode == 1
    assert "address already in use" in result.stderr.lower()
    # what to do about it, for someone who left `run` or `serve` going elsewhere
    assert f"could not serve on 127.0.0.1:{port}: is another flightwatch" in result.stderr
    assert "--listen" in result.stderr


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The site on loopback, also known as ``flightwatch.lan`` (``web.allowed_hosts``)."""
    config = write_config(tmp_path_factory.mktemp("named"),
                          web='allowed_hosts = ["flightwatch.lan"]\n')
    served = start_serve(config)
    try:
        yield served
    finally:
        stop(served.process)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example",
                                  "localhost.evil.example:{port}", "flightwatch.lan.evil:80"])
@pytest.mark.parametrize("path", ["/", "/api/history?icao=157710", "/static", "/static/now.js"])
def test_a_host_the_site_is_not_known_by_is_refused(named: Site, host: str, path: str) -> None:
    """DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 would
    read the password-less site through the visitor's browser; its requests name it."""
    port = named.url.rpartition(":")[2]
    answer = requests.get(named.url + path, headers={"Host": host.format(port=port)},
                          timeout=10, allow_redirects=False)
    assert answer.status_code == 400
    assert "evil" not in answer.text and "location" not in answer.headers


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST",
                                  "[::1]:{port}", "flightwatch.lan:{port}", "flightwatch.lan."])
def test_the_listen_address_loopback_names_and_allowed_hosts_are_served(
        named: Site, host: str) -> None:
    port = named.url.rpartition(":")[2]
    answer = requests.get(named.url + "/api/settings",
                          headers={"Host": host.format(port=port)}, timeout=10)
    assert answer.status_code == 200


def test_serve_exits_0_on_sigterm(tmp_path: Path) -> None:
    served = start_serve(write_config(tmp_path))
    served.process.terminate()
    assert served.process.wait(30) == 0

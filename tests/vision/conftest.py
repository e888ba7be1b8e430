"""ultralytics without the network: its settings, fonts and caches in a temp folder, and a
guard that fails a test when anything tries to reach beyond this machine."""
from __future__ import annotations

import ipaddress
import os
import socket

import pytest

_ENV = ("HOME", "YOLO_CONFIG_DIR", "MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "YOLO_OFFLINE")


@pytest.fixture(scope="session")
def ultralytics_offline(tmp_path_factory):
    """The ultralytics module, imported offline (vision.training.ultralytics_offline) with
    HOME and every config/cache folder in a temp dir; skips when ultralytics is missing.
    Session-wide because ultralytics fixes its config folder when first imported."""
    import importlib.util

    if importlib.util.find_spec("ultralytics") is None:
        pytest.skip("ultralytics is not installed (HullWatch's training extra: pip install -e '.[train]')")
    home = tmp_path_factory.mktemp("ultralytics_home")
    saved = {k: os.environ.get(k) for k in _ENV}
    os.environ.update(HOME=str(home), YOLO_CONFIG_DIR=str(home / "yolo"), MPLCONFIGDIR=str(home / "mpl"),
                      XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"))
    from vision.training.ultralytics_offline import import_ultralytics

    module = import_ultralytics()
    yield module
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _is_local(host) -> bool:
    if host in (None, "", "localhost"):
        return True
    try:
        ip = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False  # a name: resolving it is already a network attempt
    return ip.is_loopback or ip.is_unspecified


@pytest.fixture
def no_network(monkeypatch):
    """Every attempt to resolve a name or connect beyond loopback is refused and recorded;
    the test fails if there was any."""
    attempts: list[str] = []
    real_getaddrinfo, real_connect, real_connect_ex = socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex

    def getaddrinfo(host, *a, **kw):
        if not _is_local(host):
            attempts.append(f"getaddrinfo({host!r})")
            raise socket.gaierror(f"network blocked in tests: {host}")
        return real_getaddrinfo(host, *a, **kw)

    def guard(real):
        def connect(self, address):
            host = address[0] if isinstance(address, tuple) else None
            if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(host):
                attempts.append(f"connect({address!r})")
                raise OSError(f"network blocked in tests: {address}")
            return real(self, address)
        return connect

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", guard(real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guard(real_connect_ex))
    yield attempts
    assert attempts == [], f"the code under test tried to reach the network: {attempts}"

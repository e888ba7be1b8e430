"""Serial link (a flight controller on USB, or a radio modem)."""
from __future__ import annotations

from ..errors import LinkError
from .base import Link, LinkClosed


class SerialLink(Link):
    def __init__(self, device: str, baud: int):
        super().__init__(f"serial:{device}:{baud}")
        self.device, self.baud = device, baud
        self._port = None
        self._closed = False

    def open(self) -> None:
        import serial  # pyserial; imported here so UDP/TCP users never pay for it

        try:
            self._port = serial.Serial(self.device, self.baud, timeout=0.1, write_timeout=1.0)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise LinkError(f"cannot open serial device {self.device}: {exc}. Check the cable, the "
                            f"device name (ls /dev/ttyACM* /dev/ttyUSB*) and permission (dialout group)") from None
        self._closed = False

    def read(self, timeout_s: float) -> bytes:
        import serial

        port = self._port
        if port is None:
            raise LinkClosed(f"{self.description} is closed")
        try:
            port.timeout = timeout_s  # reconfigures the device: fails too when it has gone
            first = port.read(1)
            if not first:
                return b""
            rest = port.read(port.in_waiting) if port.in_waiting else b""
        except (serial.SerialException, OSError, TypeError) as exc:
            self._drop()
            raise LinkClosed(f"serial device {self.device} disappeared ({exc}); reconnect the cable") from None
        data = first + rest
        self.bytes_received += len(data)
        return data

    def _drop(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception:  # noqa: BLE001 - a vanished device may fail to close; it is gone anyway
                pass

    def _write(self, data: bytes) -> None:
        import serial

        port = self._port
        if port is None:
            self.writes_dropped += 1
            return
        try:
            port.write(data)
            self.bytes_sent += len(data)
        except (serial.SerialException, OSError):
            self.writes_dropped += 1

    def close(self) -> None:
        self._closed = True
        self._drop()

    def reopen_possible(self) -> bool:
        return not self._closed

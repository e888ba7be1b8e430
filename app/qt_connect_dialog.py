"""Where the vehicle is: the embedded world (no vehicle needed), UDP (BlueOS sends to
14550), TCP (SITL, a companion computer) or a serial port. The dialog builds the
connection string the CLI also takes, and refuses one the vehicle layer cannot parse,
saying why, before anything is opened."""
from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QRadioButton, QVBoxLayout, QWidget)

from vehicle.connection_string import DEFAULT_SERIAL_BAUD, parse_connection_string
from vehicle.errors import ConnectionStringError

from .qt_tasks import run_task
from .qt_theme import colour

EMBEDDED = "embedded"
DEFAULT_UDP = "udpin:0.0.0.0:14550"
DEFAULT_TCP = "127.0.0.1:5760"
BAUD_RATES = (9600, 57600, 115200, 230400, 460800, 921600)
KINDS = ("embedded", "udp", "tcp", "serial")
MIN_BUTTON_PX = 40


def serial_ports() -> list[tuple[str, str]]:
    """(device, description) of the serial ports present; empty when pyserial cannot list them."""
    try:
        from serial.tools import list_ports
    except ImportError:
        return []
    return [(p.device, p.description if p.description and p.description != "n/a" else p.device) for p in sorted(list_ports.comports(), key=lambda p: p.device)]


class QtConnectDialog(QDialog):
    ports_listed = Signal(int)  # how many serial ports the last refresh found
    def __init__(self, parent: QWidget | None = None, initial_url: str = EMBEDDED):
        super().__init__(parent)
        self.setWindowTitle("Connect to a vehicle")
        self.kind_buttons: dict[str, QRadioButton] = {}
        group = QButtonGroup(self)
        labels = {"embedded": "Embedded world (simulated vessel and ROV)", "udp": "UDP (listen: BlueOS, MAVProxy)",
                  "tcp": "TCP (SITL, companion computer)", "serial": "Serial port / USB radio"}
        kinds = QVBoxLayout()
        for kind in KINDS:
            button = QRadioButton(labels[kind])
            button.setMinimumHeight(MIN_BUTTON_PX)
            group.addButton(button)
            self.kind_buttons[kind] = button
            kinds.addWidget(button)
            button.toggled.connect(self._validate)
        self.udp = QLineEdit(DEFAULT_UDP)
        self.tcp = QLineEdit(DEFAULT_TCP)
        self.tcp.setPlaceholderText("host:port, e.g. 192.168.2.2:5760")
        self.serial_port = QComboBox()
        self.serial_port.setEditable(True)  # a port the OS does not list yet (or a by-id path) can be typed
        self.refresh_ports = QPushButton("Refresh")
        self.baud = QComboBox()
        self.baud.setEditable(True)
        self.baud.addItems([str(b) for b in BAUD_RATES])
        self.baud.setCurrentText(str(DEFAULT_SERIAL_BAUD))
        for w in (self.udp, self.tcp, self.serial_port, self.refresh_ports, self.baud):
            w.setMinimumHeight(MIN_BUTTON_PX)
        serial_row = QHBoxLayout()
        serial_row.addWidget(self.serial_port, 1)
        serial_row.addWidget(self.refresh_ports)
        form = QFormLayout()
        form.addRow("UDP listen", self.udp)
        form.addRow("TCP host:port", self.tcp)
        form.addRow("Serial port", serial_row)
        form.addRow("Baud", self.baud)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {colour('alarm').name()}")
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Ok).setText("Connect")
        for b in self.buttons.buttons():
            b.setMinimumHeight(MIN_BUTTON_PX)
        self.buttons.accepted.connect(self._accept_if_valid)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(kinds)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.refresh_ports.clicked.connect(self.refresh_serial_ports)
        self._ports_task = None
        for edit in (self.udp, self.tcp):
            edit.textChanged.connect(self._validate)
        self.serial_port.editTextChanged.connect(self._validate)
        self.baud.editTextChanged.connect(self._validate)
        self.refresh_serial_ports()
        self.set_url(initial_url)

    # -- the answer -------------------------------------------------------------
    def kind(self) -> str:
        return next(k for k, b in self.kind_buttons.items() if b.isChecked())

    def url(self) -> str:
        """The connection string of the current choice ("embedded" for the embedded world)."""
        kind = self.kind()
        if kind == "embedded":
            return EMBEDDED
        if kind == "udp":
            text = self.udp.text().strip()
            return f"udpin:0.0.0.0:{text}" if text.isdigit() else text  # a bare port number: listen on it
        if kind == "tcp":
            text = self.tcp.text().strip()
            return text if text.lower().startswith("tcp:") else f"tcp:{text}"
        device = self.serial_port.currentText().split(" — ")[0].strip()
        return f"serial:{device}:{self.baud.currentText().strip()}"

    def error_text(self) -> str:
        """Why the current choice cannot be used, or "" when it can."""
        kind = self.kind()
        if kind == "embedded":
            return ""
        if kind == "serial":
            if not self.serial_port.currentText().strip():
                return "choose a serial port (none found: plug the radio or USB cable in, then Refresh)"
            if not self.baud.currentText().strip().isdigit():
                return f"baud rate {self.baud.currentText()!r} is not a number"
        try:
            config = parse_connection_string(self.url())
        except ConnectionStringError as exc:
            return str(exc)
        if kind == "udp" and config.kind not in ("udpin", "udpout"):
            return "a UDP connection string starts with udpin: or udpout:"
        return ""

    def set_url(self, url: str) -> None:
        """Preselect a previous connection (the main window remembers the last one)."""
        url = (url or EMBEDDED).strip()
        kind = "embedded"
        if url != EMBEDDED:
            try:
                config = parse_connection_string(url)
            except ConnectionStringError:
                config = None
            if config is not None and config.kind in ("udpin", "udpout"):
                kind = "udp"
                self.udp.setText(config.url)
            elif config is not None and config.kind == "tcp":
                kind = "tcp"
                self.tcp.setText(f"{config.host}:{config.port}")
            elif config is not None and config.kind == "serial":
                kind = "serial"
                self.serial_port.setEditText(config.device)
                self.baud.setCurrentText(str(config.baud))
        self.kind_buttons[kind].setChecked(True)
        self._validate()

    @Slot()
    def refresh_serial_ports(self) -> None:
        """List the ports in a task: enumerating devices can take a while on some systems."""
        self.refresh_ports.setEnabled(False)
        self._ports_task = run_task("list serial ports", serial_ports, parent=self, on_done=self._show_ports,
                                    on_error=self._ports_failed)

    def _show_ports(self, ports: list) -> None:
        current = self.serial_port.currentText()
        self.serial_port.clear()
        for device, description in ports:
            self.serial_port.addItem(device if description == device else f"{device} — {description}")
        if current:
            self.serial_port.setEditText(current)
        self.ports_listed.emit(len(ports))
        self._validate()

    def _ports_failed(self, text: str) -> None:
        self.error.setText(text)
        self._validate()

    # -- validation -------------------------------------------------------------
    @Slot()
    def _validate(self) -> bool:
        if not any(b.isChecked() for b in self.kind_buttons.values()):
            return False
        kind = self.kind()
        self.udp.setEnabled(kind == "udp")
        self.tcp.setEnabled(kind == "tcp")
        for w in (self.serial_port, self.baud):
            w.setEnabled(kind == "serial")
        self.refresh_ports.setEnabled(kind == "serial" and (self._ports_task is None or self._ports_task.future.done()))
        problem = self.error_text()
        self.error.setText(problem)
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(not problem)
        return not problem

    def _accept_if_valid(self) -> None:
        if self._validate():
            self.accept()

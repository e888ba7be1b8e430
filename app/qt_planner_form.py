"""The input side of the mission planner panel: vessel, hull source, placement at the berth
and sweep parameters, turned into a planner_session.PlanRequest. No work happens here."""
from __future__ import annotations

from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox,
                               QHBoxLayout, QLineEdit, QPlainTextEdit, QPushButton, QRadioButton, QVBoxLayout,
                               QWidget)

from .planner_session import SENSORS, PlanRequest, parametric_dims, parse_origin

BUTTON_MIN_HEIGHT_PX = 40
UNITS = ("detect", "m", "cm", "mm")


def spin(lo: float, hi: float, value: float, decimals: int = 2, step: float = 0.1, suffix: str = "",
         special: str | None = None) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setValue(value)
    if suffix:
        box.setSuffix(f" {suffix}")
    if special:
        box.setSpecialValueText(special)  # shown at the minimum: "use the default"
    box.setMinimumHeight(BUTTON_MIN_HEIGHT_PX)
    return box


def button(text: str) -> QPushButton:
    b = QPushButton(text)
    b.setMinimumHeight(BUTTON_MIN_HEIGHT_PX)
    return b


def _row(*widgets) -> QHBoxLayout:
    row = QHBoxLayout()
    for w in widgets:
        row.addWidget(w)
    return row


class QtPlannerForm(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._vessel_group())
        layout.addWidget(self._hull_group())
        layout.addWidget(self._placement_group())
        layout.addWidget(self._sweep_group())

    # ---- groups ------------------------------------------------------------------------
    def _vessel_group(self) -> QGroupBox:
        box = QGroupBox("Vessel")
        form = QFormLayout(box)
        self.vessel_name = QLineEdit()
        self.vessel_name.setPlaceholderText("e.g. MV Example")
        self.imo = QLineEdit()
        self.imo.setPlaceholderText("7 digits")
        form.addRow("Name", self.vessel_name)
        form.addRow("IMO", self.imo)
        return box

    def _hull_group(self) -> QGroupBox:
        box = QGroupBox("Hull")
        form = QFormLayout(box)
        self.use_mesh = QRadioButton("Mesh file")
        self.use_parametric = QRadioButton("Parametric")
        self.use_parametric.setChecked(True)
        self._source = QButtonGroup(self)
        self._source.addButton(self.use_mesh)
        self._source.addButton(self.use_parametric)
        form.addRow(_row(self.use_mesh, self.use_parametric))
        self.mesh_path = QLineEdit()
        self.mesh_path.setPlaceholderText("STL, OBJ or PLY (also .gz)")
        self.browse_button = button("Browse…")
        form.addRow("File", _row(self.mesh_path, self.browse_button))
        self.units = QComboBox()
        self.units.addItems(UNITS)
        self.scale = spin(0.0001, 10000.0, 1.0, decimals=4, step=1.0)
        self.load_button = button("Load mesh")
        form.addRow("Units, scale", _row(self.units, self.scale, self.load_button))
        self.length = spin(5.0, 500.0, 20.0, step=1.0, suffix="m")
        self.beam = spin(0.5, 100.0, 5.0, suffix="m")
        self.hull_draft = spin(0.1, 40.0, 1.5, suffix="m")
        self.depth = spin(0.0, 60.0, 0.0, suffix="m", special="auto")
        self.cb = spin(0.35, 0.9, 0.7, step=0.05)
        form.addRow("L, B, T", _row(self.length, self.beam, self.hull_draft))
        self.build_button = button("Build hull")
        form.addRow("D, CB", _row(self.depth, self.cb, self.build_button))
        self.hull_info = QPlainTextEdit()
        self.hull_info.setReadOnly(True)
        self.hull_info.setPlaceholderText("no hull loaded")
        self.hull_info.setMaximumHeight(160)
        form.addRow(self.hull_info)
        return box

    def _placement_group(self) -> QGroupBox:
        box = QGroupBox("At the berth")
        form = QFormLayout(box)
        self.draft = spin(0.001, 40.0, 1.5, decimals=3, suffix="m")
        self.berth_side = QComboBox()
        self.berth_side.addItems(["port", "starboard"])
        self.quay_gap = spin(0.0, 100.0, 3.0, suffix="m")
        self.water_depth = spin(0.0, 500.0, 0.0, suffix="m", special="draft + 5 m")
        self.heading = spin(0.0, 359.9, 0.0, decimals=1, step=1.0, suffix="deg")
        self.origin = QLineEdit()
        self.origin.setPlaceholderText("LAT,LON of the aft end on the keel (or the vehicle's EKF origin)")
        self.origin_north = spin(-5000.0, 5000.0, 0.0, suffix="m")
        self.origin_east = spin(-5000.0, 5000.0, 0.0, suffix="m")
        form.addRow("Draft", self.draft)
        form.addRow("Berth side", self.berth_side)
        form.addRow("Gap to quay", self.quay_gap)
        form.addRow("Water depth", self.water_depth)
        form.addRow("Bow heading", self.heading)
        form.addRow("Ship position", self.origin)
        form.addRow("Aft end from EKF origin N, E", _row(self.origin_north, self.origin_east))
        return box

    def _sweep_group(self) -> QGroupBox:
        box = QGroupBox("Sweep")
        form = QFormLayout(box)
        self.standoff = spin(0.3, 20.0, 2.0, suffix="m")
        self.overlap = spin(0.0, 0.89, 0.3, step=0.05)
        self.sensor = QComboBox()
        self.sensor.addItems(SENSORS)
        self.niche_first = QCheckBox("Niche areas first")
        self.niche_first.setChecked(True)
        self.min_depth = spin(0.1, 100.0, 1.0, suffix="m")
        self.keel_clearance = spin(0.1, 20.0, 1.0, suffix="m")
        self.speed = spin(0.05, 3.0, 0.5, step=0.05, suffix="m/s")
        self.pattern = QComboBox()
        self.pattern.addItems(["horizontal", "vertical"])
        form.addRow("Standoff", self.standoff)
        form.addRow("Overlap", self.overlap)
        form.addRow("Sensor", self.sensor)
        form.addRow(self.niche_first)
        form.addRow("Shallowest lane", self.min_depth)
        form.addRow("Keel clearance", self.keel_clearance)
        form.addRow("Speed", self.speed)
        form.addRow("Lanes", self.pattern)
        return box

    # ---- values --------------------------------------------------------------------------
    def mesh_units(self) -> str | None:
        return None if self.units.currentText() == "detect" else self.units.currentText()

    def dims(self):
        """The parametric hull's dimensions (UserError when implausible)."""
        return parametric_dims(self.length.value(), self.beam.value(), self.hull_draft.value(),
                               self.depth.value() or None, self.cb.value())

    def request(self, model, niche_areas) -> PlanRequest:
        lat, lon = parse_origin(self.origin.text())
        return PlanRequest(
            model=model, niche_areas=tuple(niche_areas), vessel_name=self.vessel_name.text(), imo=self.imo.text(),
            draft_m=self.draft.value(), berth_side=self.berth_side.currentText(), quay_gap_m=self.quay_gap.value(),
            water_depth_m=self.water_depth.value() or None, heading_deg=self.heading.value(),
            origin_lat_deg=lat, origin_lon_deg=lon, origin_ned_m=(self.origin_north.value(), self.origin_east.value()),
            standoff_m=self.standoff.value(), overlap=self.overlap.value(), sensor=self.sensor.currentText(),
            niche_first=self.niche_first.isChecked(), min_depth_m=self.min_depth.value(),
            keel_clearance_m=self.keel_clearance.value(), cruise_speed_m_s=self.speed.value(),
            pattern=self.pattern.currentText())

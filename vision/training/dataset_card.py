"""Data-set cards: card.json for programs, card.md for people, written from one dict.

The generator's identity (HullWatch version, git commit) is read here; nothing in a card
depends on the clock, so the same inputs give the same card, byte for byte.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from vision.classes import CLASSES

from .yolo_layout import SPLITS

REPO = Path(__file__).resolve().parents[2]


def generator_identity() -> dict:
    """HullWatch's version and, when the code runs from a git checkout, its commit."""
    out: dict = {"hullwatch_version": _package_version()}
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5)
        if commit.returncode == 0:
            out["git_commit"] = commit.stdout.strip()
            status = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                                    capture_output=True, text=True, timeout=5)
            if status.returncode == 0:
                out["git_dirty"] = bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass  # no git (an installed wheel): the version alone names the generator
    return out


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hullwatch")
    except PackageNotFoundError:
        return "unknown"


def write_card(root: Path, card: dict) -> None:
    (root / "card.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    (root / "card.md").write_text(card_markdown(card), encoding="utf-8")


def card_markdown(card: dict) -> str:
    gen = card.get("generator", {})
    lines = [f"# {card.get('title', 'HullWatch data set')}", ""]
    if card.get("heldout"):
        lines += ["**Held out: for evaluation only.** Never train on this set.", ""]
    if card.get("summary"):
        lines += [card["summary"], ""]
    lines += ["| | |", "|---|---|",
              f"| kind | {card.get('kind')} |", f"| source | {card.get('source')} |",
              f"| seed | {card.get('seed')} |", f"| images | {sum(card.get('frames', {}).values())} |",
              f"| image format | {card.get('image_format', '')} |",
              f"| generator | {gen.get('module', '')} v{gen.get('generator_version', '')}, HullWatch "
              f"{gen.get('hullwatch_version', '')}"
              + (f", commit {gen['git_commit'][:12]}{' (modified)' if gen.get('git_dirty') else ''}"
                 if gen.get("git_commit") else "") + " |",
              f"| split | {card.get('split', '')} |", ""]
    lines += ["## Images and labels per split", "",
              "| class | " + " | ".join(SPLITS) + " |", "|---|" + "---:|" * len(SPLITS)]
    frames, labels, empty = card.get("frames", {}), card.get("labels", {}), card.get("empty_images", {})
    lines.append("| **images** | " + " | ".join(str(frames.get(s, 0)) for s in SPLITS) + " |")
    if empty:
        lines.append("| images with no label | " + " | ".join(str(empty.get(s, 0)) for s in SPLITS) + " |")
    for c in CLASSES:
        lines.append(f"| {c} | " + " | ".join(str(labels.get(s, {}).get(c, 0)) for s in SPLITS) + " |")
    lines.append("")
    if card.get("unseen"):
        u = card["unseen"]
        lines += ["## What training never saw", "",
                  f"- containers: {', '.join(u.get('container_kinds', []))} (training sets hold "
                  f"{', '.join(u.get('training_container_kinds', []))})",
                  f"- hull: {u.get('hull', {}).get('rule', '')}"
                  + (f"; file {u['hull']['file']} (SHA-256 {u['hull'].get('sha256')}), scale {u['hull'].get('scale')}, "
                     f"draft {u['hull'].get('draft_m')} m; niche areas: {u['hull'].get('niche_source')}"
                     if u.get("hull", {}).get("file") else ""),
                  f"- random streams: {u.get('seed_domain', '')}",
                  f"- seen in training: {', '.join(u.get('seen_in_training', []))}", ""]
    if card.get("parameters"):
        lines += ["## Parameters", "", "```json", json.dumps(card["parameters"], indent=2), "```", ""]
    for key, title in (("honesty", "What the images are, and are not"), ("licence", "Licence")):
        if card.get(key):
            lines += [f"## {title}", "", card[key], ""]
    lines += ["Per-image provenance (seeds, poses, sensor settings) is in `index.jsonl`; hulls and their "
              "scenario seeds are in `card.json`." if card.get("source") == "synthetic" else "", ""]
    return "\n".join(lines).rstrip() + "\n"

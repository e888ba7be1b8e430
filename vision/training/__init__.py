"""Offline data sets and model training. Only here may ultralytics/torch be imported
(inside functions), and sim/ to render synthetic data."""

"""Detection metrics for held-out sets: mAP50, mAP50-95 per class, recall at the operating threshold."""

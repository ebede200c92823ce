"""The model card written by training, and the validation metrics that go into it.

The card (``model_card.json``) is what :meth:`~temnet_app.detector.inference.Detector.load` reads
(name, version, config, classes) plus the provenance a lab needs: the training data
(``dataset.describe`` of the training and validation crops, the split), the training run (settings,
epochs, best epoch, losses per epoch, wall time), the exact command, the validation metrics
(mAP@0.5, per-class AP, precision / recall / F1 at confidence 0.5 and 0.9, from
:func:`~temnet_app.core.analysis.metrics.evaluate` on whole validation micrographs run through the
Detector facade), the date and app version.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

from temnet_app.core.progress import CancelToken, ProgressFn, check_cancel, no_progress

__all__ = ["build_card", "validation_metrics", "evaluation_dict", "SCORE_THRESHOLDS"]

SCORE_THRESHOLDS = (0.5, 0.9)


def _num(value: float) -> Optional[float]:
    """JSON-safe float (NaN -> None), rounded to 4 decimals."""
    value = float(value)
    return None if math.isnan(value) else round(value, 4)


def evaluation_dict(evaluation, scheme) -> dict:
    """An :class:`~temnet_app.core.analysis.metrics.Evaluation` as JSON (fractions, not percent)."""
    o = evaluation.overall
    per_class = {}
    for class_id, m in evaluation.per_class.items():
        per_class[scheme.name(class_id)] = {
            "ap": _num(m.ap), "precision": _num(m.precision), "recall": _num(m.recall),
            "f1": _num(m.f1), "tp": m.tp, "fp": m.fp, "fn": m.fn, "n_truth": m.n_truth,
            "n_pred": m.n_pred}
    return {"iou_threshold": evaluation.iou_threshold,
            "score_threshold": evaluation.score_threshold,
            "map": _num(o.map), "precision": _num(o.precision), "recall": _num(o.recall),
            "f1": _num(o.f1), "tp": o.tp, "fp": o.fp, "fn": o.fn, "per_class": per_class,
            "confusion": evaluation.confusion.astype(int).tolist()}


def validation_metrics(config, inference_model, micrographs: Sequence, *,
                       progress: Optional[ProgressFn] = None,
                       cancel: Optional[CancelToken] = None) -> dict:
    """Run the Detector facade (the model's own tiling mode) over whole ``micrographs``
    (LabelledMicrograph records) and score them at IoU 0.5 for each of
    :data:`SCORE_THRESHOLDS`; returns ``{"micrographs": n, "mode": ..., "at_0.5": {...},
    "at_0.9": {...}}``."""
    from temnet_app.core.analysis import evaluate
    from temnet_app.core.micrographs import read_micrograph
    from temnet_app.detector.inference import Detector

    progress = progress or no_progress
    detector = Detector(config, inference_model, name="validation")
    predictions, truths = {}, {}
    for i, m in enumerate(micrographs):
        check_cancel(cancel)
        progress(i / max(1, len(micrographs)), f"validation metrics: {m.key}")
        pixels = read_micrograph(m.path).pixels
        predictions[m.key] = detector.detect(pixels, pixel_size_nm=m.pixel_size_nm,
                                             cancel=cancel)
        truths[m.key] = list(m.boxes)
    scheme = config.class_scheme
    out = {"micrographs": len(micrographs), "mode": config.tiling_mode, "iou_threshold": 0.5}
    for threshold in SCORE_THRESHOLDS:
        ev = evaluate(predictions, truths, scheme.ids, iou_threshold=0.5,
                      score_threshold=threshold)
        out[f"at_{threshold:g}"] = evaluation_dict(ev, scheme)
    progress(1.0, "validation metrics done")
    return out


def build_card(config, name: str, version: str, *, settings, state, train_source, val_source,
               split, command: str = "", notes: Sequence[str] = (),
               metrics: Optional[dict] = None, pretraining: Optional[dict] = None,
               class_weights: Optional[Sequence[float]] = None) -> dict:
    """The model card dict of a finished training run (JSON-able); ``class_weights``: the
    class-balanced loss weights (background first) when the run used them."""
    from temnet_app.detector.data.pipeline import describe
    from temnet_app.detector.inference import make_card

    summary = (f"{settings.schedule} training, {state.epoch} epochs, best validation loss "
               f"{state.best_val_loss:.4f} at epoch {state.best_epoch}, on "
               f"{len(split.train)} training and {len(split.validation)} validation micrographs")
    card = make_card(config, name, version, training=summary)
    history = [{"epoch": h["epoch"], "stage": h["stage"], "learning_rate": h["learning_rate"],
                "train_loss": _num(h["train"].get("total", math.nan)),
                "val_loss": _num(h["validation"].get("total", math.nan)),
                "seconds": h.get("seconds")} for h in state.history]
    card.update({
        "training_data": {"train": describe(train_source, config),
                          "validation": describe(val_source, config),
                          "split": split.to_dict(),
                          **({"virion_crops": pretraining} if pretraining else {})},
        "training_run": {"settings": settings.to_dict(), "epochs": state.epoch,
                         "best_epoch": state.best_epoch,
                         "best_val_loss": _num(state.best_val_loss),
                         "final_learning_rate": state.learning_rate,
                         "wall_time_s": round(state.elapsed_s, 1), "history": history,
                         "optimizer": "SGD (momentum, decoupled weight decay, clip norm)",
                         **({"class_loss_weights": {
                             n: round(float(w), 4) for n, w in zip(config.class_names,
                                                                   class_weights[1:])}}
                            if class_weights is not None else {})},
        "command": command,
        "validation_metrics": metrics,
        "notes": [str(n) for n in notes if str(n).strip()],
    })
    return card

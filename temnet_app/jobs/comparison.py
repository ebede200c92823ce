"""Models side by side on a project's reviewed micrographs: each model detects them and is
scored against their manual boxes (mAP@0.5, precision / recall / F1 at the threshold, per
class), the same numbers ``temnet evaluate`` prints for those micrographs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from temnet_app.core.errors import MicrographError, ProjectError
from temnet_app.core.progress import CancelToken, ProgressFn, check_cancel, no_progress, scaled


@dataclass(frozen=True)
class ModelScore:
    """One model's evaluation (``temnet_app.core.analysis.Evaluation``) on ``micrographs``."""

    folder: Path
    model_id: str
    evaluation: object
    micrographs: int


def compare_models(project, model_dirs: Sequence, micrograph_ids: Sequence[int],
                   threshold: float = 0.5, progress: Optional[ProgressFn] = None,
                   cancel: Optional[CancelToken] = None,
                   mode: Optional[str] = None, flips: Optional[bool] = None
                   ) -> list[ModelScore]:
    """Score every model of ``model_dirs`` on ``micrograph_ids`` (which need manual boxes),
    each micrograph at its scale in the project, in ``mode`` and with ``flips`` (the model's
    own settings when None).
    Loading the models imports TensorFlow."""
    from temnet_app.core.analysis import evaluate
    from temnet_app.core.micrographs import read_micrograph
    from temnet_app.jobs.models import load_detector

    progress = progress or no_progress
    annotated = project.annotated_micrograph_ids()
    ids = [int(i) for i in micrograph_ids if int(i) in annotated]
    if not ids:
        raise ProjectError("no micrographs with manual boxes to compare the models on: mark "
                           "some corrected micrographs as reviewed first")
    images, truths = {}, {}
    for mid in ids:
        m = project.micrograph(mid)
        try:
            images[mid] = (read_micrograph(project.image_path(m)).pixels,
                           project.pixel_size(m))
        except (MicrographError, OSError) as error:
            raise MicrographError(f"cannot compare on {m.name}: {error}") from None
        truths[str(mid)] = project.manual_boxes(mid)
    scores = []
    for k, folder in enumerate(model_dirs):
        check_cancel(cancel)
        step = scaled(progress, k / len(model_dirs), (k + 1) / len(model_dirs))
        step(0.0, f"loading model {Path(folder).name}")
        detector = load_detector(folder, mode, flips)
        predictions = {}
        for i, (mid, (pixels, pixel_size)) in enumerate(images.items()):
            check_cancel(cancel)
            step((i + 1) / (len(images) + 1), f"{detector.model_id}: micrograph {i + 1} of "
                                              f"{len(images)}")
            predictions[str(mid)] = detector.detect(pixels, pixel_size_nm=pixel_size,
                                                    cancel=cancel)
        evaluation = evaluate(predictions, truths, detector.scheme.ids, iou_threshold=0.5,
                              score_threshold=threshold)
        scores.append(ModelScore(Path(folder), detector.model_id, evaluation, len(ids)))
    progress(1.0, f"compared {len(scores)} model(s) on {len(ids)} micrograph(s)")
    return scores

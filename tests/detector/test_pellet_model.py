"""The default model, temnet-gn-pellet (temnet-gn-synthetic fine-tuned on simulated micrographs
with granular debris flocs, virion-sized out-of-section discs and a real-style appearance): found
by name and as the default, and on the real reference micrograph it finds the clear virions
temnet-gn-synthetic misses, with fewer spurious boxes (our eye labels, benchmarks/data); the
boxes that match no clear or ambiguous particle sit on the faint grey discs of the second
labelling pass, not on the debris."""

import sys
from pathlib import Path

import pytest

pytest.importorskip("tensorflow")

from temnet_app.core.micrographs import read_micrograph  # noqa: E402
from temnet_app.jobs.models import load_detector, resolve_model_dir  # noqa: E402

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.append(str(BENCHMARKS))
from real_reference import score  # noqa: E402  (the scoring of benchmarks/real_reference.py)
from real_vs_simulated import PIXEL_NM, read_boxes  # noqa: E402


def _recall_precision(model, image, threshold=0.5, flips=None):
    """Recall of the clear virions, precision, and precision with boxes on faint discs right."""
    found = [d for d in load_detector(model, flips=flips).detect(image, pixel_size_nm=PIXEL_NM)
             if d.score >= threshold]
    clear, ambiguous, faint = (read_boxes(BENCHMARKS / "data" / f"reference_{name}.csv")
                               for name in ("clear_virions", "ambiguous_particles",
                                            "faint_discs"))
    recall, right, lenient, n = score(found, clear, ambiguous, faint)
    return recall / len(clear), right / max(1, n), lenient / max(1, n)


def test_found_by_name(tmp_path):
    folder = resolve_model_dir("temnet-gn-pellet")
    assert (folder / "weights.weights.h5").is_file()
    assert load_detector("temnet-gn-pellet").model_id == "temnet-gn-pellet@5"
    assert resolve_model_dir(None) == folder


def test_on_the_real_reference_it_finds_what_the_synthetic_model_misses(shared_dir):
    image = read_micrograph(shared_dir / "reference" /
                            "real_micrograph_1797001_preview.png").pixels
    old_recall, old_precision, _ = _recall_precision("temnet-gn-synthetic", image)
    recall, precision, with_faint = _recall_precision(None, image)   # the default: pellet
    # measured inside the reference's black frame: synthetic 41/45 at 79%; pellet version 5
    # 45/45 at 87% (with the frame: 42/45 at 80% and 45/45 at 85%)
    assert recall >= 0.95 > old_recall >= 0.9
    assert precision >= 0.82 > old_precision >= 0.75
    # measured 97% with boxes on faint discs counted (synthetic 89%)
    assert with_faint >= 0.93


def test_its_card_averages_over_mirrored_copies_which_finds_more_at_higher_thresholds(shared_dir):
    image = read_micrograph(shared_dir / "reference" /
                            "real_micrograph_1797001_preview.png").pixels
    assert load_detector("temnet-gn-pellet").config.flip_average is True
    one = _recall_precision("temnet-gn-pellet", image, 0.75, flips=False)
    averaged = _recall_precision("temnet-gn-pellet", image, 0.75)
    # measured at 0.75, version 5 inside the reference's black frame: one pass 42/45 at 88%,
    # averaged 44/45 at 89.6% (60 of 67 boxes): more clear virions kept, and no less precise
    assert averaged[0] >= one[0] + 1.5 / 45 and averaged[1] >= one[1]
    assert averaged[1] >= 0.88

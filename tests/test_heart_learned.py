"""The learned heart classifier: its logistic regression (exact properties on synthetic features) and the
shipped weights on the real SmolLM2 features (skipped without the GGUF model: `make install-judge`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trainer.heart._learned import WEIGHTS, train
from trainer.heart._linear import LinearModel, fit


def test_fit_separates_a_separable_problem_and_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5))
    y = (x[:, 0] + 0.5 * x[:, 1] > 1.0).astype(float)  # imbalanced, like heart questions
    m = fit(x, y, l2=1.0)
    p = m.proba(x)
    pred, truth = p >= 0.5, y == 1
    balanced = ((pred & truth).sum() / truth.sum() + (~pred & ~truth).sum() / (~truth).sum()) / 2
    assert balanced > 0.95 and ((p > 0) & (p < 1)).all()  # classes weighted to balance
    m.save(tmp_path / "w.npz")
    again = LinearModel.load(tmp_path / "w.npz")
    assert np.allclose(again.proba(x), p) and again.threshold == m.threshold
    assert np.allclose(fit(x, y, l2=1.0).weights, m.weights)  # deterministic


def test_train_picks_a_threshold_by_cross_validation() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 4))
    y = (x[:, 0] > 1.0).astype(float)
    model, cv = train(x, x + rng.normal(scale=0.3, size=x.shape), y)
    assert model.threshold == cv["threshold"]
    assert 0.3 <= cv["threshold"] <= 0.95 and cv["l2"] in (1.0, 10.0, 100.0, 1000.0)
    assert len(cv["oof_with"]) == len(cv["oof_without"]) == 300
    assert ((cv["oof_with"] >= cv["threshold"]) == (y == 1)).mean() > 0.9


@pytest.mark.slow
def test_shipped_weights_on_real_features() -> None:
    pytest.importorskip("gguf")
    try:
        from scripts.local_stack import smollm2_gguf

        smollm2_gguf()
    except (ImportError, SystemExit) as e:
        pytest.skip(f"no SmolLM2 GGUF: {e}")
    from trainer.heart._learned import LearnedClassifier

    assert WEIGHTS.exists() and WEIGHTS.stat().st_size < 100_000  # small enough to ship
    clf = LearnedClassifier()
    mi, eye = clf.classify_many(
        [
            ("A 62-year-old man has crushing chest pain and ST elevation in V1-V4. What is the next step?", None),
            ("A boy has itchy eyes and polygonal papillae every summer. What is the diagnosis?", None),
        ]
    )
    assert mi.heart_related and mi.method == "learned" and mi.theme
    assert not eye.heart_related and eye.theme is None
    assert any("learned P(heart)" in e for e in mi.evidence)

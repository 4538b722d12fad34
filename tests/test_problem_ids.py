"""Problem ids unique per data source (harness/data/ids.py): the fingerprint, old runs kept in their scheme, and no
pairing of rows across id schemes."""

from __future__ import annotations

import json
import shutil

import pytest

from harness.backends.base import Completion
from harness.data import load_problems
from harness.data.ids import ID_SCHEME, LEGACY_SCHEME, file_tag, run_scheme
from harness.store import SampleStore, StoreError
from tmc_core.config import ConfigError


def _write(path, answers):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"question": f"q{i}", "answer": f"#### {a}"}) + "\n"
                            for i, a in enumerate(answers)))
    return path


def _old(run_dir):
    """Make the store at ``run_dir`` look written before id schemes existed: no ``id_scheme`` in its run.json."""
    meta = json.loads((run_dir / "run.json").read_text())
    meta.pop("id_scheme", None)
    (run_dir / "run.json").write_text(json.dumps(meta))


def test_two_sources_with_the_same_split_and_index_get_different_ids(tmp_path):
    a = load_problems("gsm8k", source=str(_write(tmp_path / "easy_arith" / "test.jsonl", [1, 2, 3])))
    b = load_problems("gsm8k", source=str(_write(tmp_path / "gsm8k" / "test.jsonl", [7, 8, 9])))
    assert [p.legacy_id for p in a] == [p.legacy_id for p in b] == ["gsm8k/test/0", "gsm8k/test/1", "gsm8k/test/2"]
    assert not {p.id for p in a} & {p.id for p in b}
    assert a[2].id == f"gsm8k/{file_tag(tmp_path / 'easy_arith' / 'test.jsonl')}/test/2"
    assert a[2].id.startswith("gsm8k/easy_arith-") and b[2].id.startswith("gsm8k/gsm8k-")
    # same name, other content (an edited file): other ids
    c = load_problems("gsm8k", source=str(_write(tmp_path / "v2" / "easy_arith" / "test.jsonl", [1, 2, 4])))
    assert c[0].id != a[0].id and c[0].id.startswith("gsm8k/easy_arith-")
    # the scheme-1 form is what older runs hold
    assert [p.id for p in load_problems("gsm8k", source=str(tmp_path / "gsm8k" / "test.jsonl"),
                                        id_scheme=LEGACY_SCHEME)] == [p.legacy_id for p in b]


def test_same_content_same_ids_across_runs_and_places(tmp_path):
    src = _write(tmp_path / "easy_arith" / "test.jsonl", [1, 2, 3])
    first = [p.id for p in load_problems("gsm8k", source=str(src))]
    assert [p.id for p in load_problems("gsm8k", source=str(src))] == first
    moved = tmp_path / "elsewhere" / "easy_arith" / "test.jsonl"
    moved.parent.mkdir(parents=True)
    shutil.copy(src, moved)
    assert [p.id for p in load_problems("gsm8k", source=str(moved))] == first  # content decides, not the path


class _Backend:
    """Answers ``#### 1`` to every prompt; records the seeds it was handed."""

    name = "fake"

    def __init__(self):
        self.seeds = []

    def generate(self, prompts, n, temperature, top_p, max_new_tokens, seed, seeds=None):
        self.seeds += [s[0] for s in seeds]
        return [[Completion("#### 1", 3, "stop", -1.0)] for _ in prompts]


def _sample(run_dir, src, n):
    from harness.pipeline import SampleConfig, run_sampling

    cfg = SampleConfig(model="m", source=str(src), template="completion", n=n, out=str(run_dir))
    backend = _Backend()
    summary = run_sampling(cfg, backend=backend, progress=False)
    return summary, backend.seeds


def test_new_store_gets_new_ids_and_old_store_resumes_with_old_ids(tmp_path):
    src = _write(tmp_path / "easy_arith" / "test.jsonl", [1, 2])
    new, old = tmp_path / "new", tmp_path / "old"
    s, seeds_new = _sample(new, src, 2)
    assert s["id_scheme"] == ID_SCHEME == json.loads((new / "run.json").read_text())["id_scheme"]
    assert set(SampleStore(new).read()["problem_id"]) == {p.id for p in load_problems("gsm8k", source=str(src))}
    # an old store: sample 0 of each problem drawn before schemes existed, under scheme-1 ids
    _sample(old, src, 1)
    st = SampleStore(old)
    for p in st.parts():
        p.unlink()
    st.write_batch([{"problem_id": f"gsm8k/test/{i}", "sample_idx": 0, "correct": True} for i in range(2)])
    _old(old)
    s, seeds_resumed = _sample(old, src, 2)  # resumed: only sample 1 is drawn, under the old ids
    assert s["id_scheme"] == LEGACY_SCHEME == SampleStore(old).id_scheme == run_scheme(old)
    assert s["new_samples"] == 2 and sorted(SampleStore(old).read()["problem_id"]) == [
        "gsm8k/test/0", "gsm8k/test/0", "gsm8k/test/1", "gsm8k/test/1"]
    assert "id_scheme" not in json.loads((old / "run.json").read_text())  # the old run.json is left as it was
    # the id is only a name: sample 1 got the same seeds in both schemes
    assert seeds_resumed == seeds_new[1::2]
    with pytest.raises(StoreError, match="id_scheme 1, the writer asks for id_scheme 2"):
        SampleStore.open(old, SampleStore(old).config, SampleStore(old).config_hash, id_scheme=ID_SCHEME)


def test_base_run_of_another_id_scheme_is_refused_naming_both(tmp_path):
    from harness.train.eval_checkpoints import base_from_run, build_parser, sample_config

    src = _write(tmp_path / "easy_arith" / "test.jsonl", [1, 2])
    base = tmp_path / "base"
    meta = {"model_path": "m", "config": {"model": "m", "benchmark": "gsm8k", "template": "completion",
                                         "max_completion_length": 512}}
    scfg = sample_config(meta, build_parser().parse_args(["r", "--source", str(src), "--n", "1", "--temperature",
                                                          "1.0", "--top-p", "1.0", "--dtype", "auto"]))
    from dataclasses import replace

    _sample(base, src, 1)
    cfg = json.loads((base / "run.json").read_text())["config"]
    scfg = replace(scfg, **{k: cfg[k] for k in ("max_new_tokens", "seed")})
    assert base_from_run(base, scfg, ID_SCHEME)["n_problems"] == 2
    _old(base)
    with pytest.raises(ConfigError) as e:
        base_from_run(base, scfg, ID_SCHEME)
    msg = str(e.value)
    assert f"base run {base} names problems with id_scheme 1" in msg and "this evaluation's store" in msg
    assert "id_scheme 2" in msg and "re-sample base run" in msg


def _train_cfg(tmp_path, src, base):
    from harness.train.config import train_config_from_dict

    return train_config_from_dict(dict(method="rl_rej", rej_mode="offline", rej_base_run=str(base), model="m",
                                       source=str(src), split="train", template="completion",
                                       output_dir=str(tmp_path / "train"), report_to=["none"]))


def test_offline_filter_refuses_another_scheme_and_a_base_sharing_no_problem(tmp_path):
    from harness.train.provenance import train_sampling
    from harness.train.rl_rej import offline_rejected_ids

    src = _write(tmp_path / "easy_arith" / "train.jsonl", [1, 2, 3])
    base = tmp_path / "base"
    cfg = _train_cfg(tmp_path, src, base)
    ids = [p.id for p in load_problems("gsm8k", split="train", source=str(src))]
    st = SampleStore.open(base, train_sampling(cfg), "h")
    st.write_batch([{"problem_id": p, "sample_idx": 0, "correct": i == 0} for i, p in enumerate(ids)])
    assert offline_rejected_ids(base, 0.5, cfg)[0] == {ids[0]}
    _old(base)
    with pytest.raises(ConfigError, match=rf"rej_base_run: base run {base} names problems with id_scheme 1, "
                                          rf"training run .*train with id_scheme 2"):
        offline_rejected_ids(base, 0.5, cfg)
    other = tmp_path / "other"
    st = SampleStore.open(other, train_sampling(cfg), "h")
    st.write_batch([{"problem_id": f"gsm8k/x-00000000/train/{i}", "sample_idx": 0, "correct": True} for i in range(3)])
    with pytest.raises(ConfigError, match="holds none of the 3 training problems"):
        offline_rejected_ids(other, 0.5, cfg)


def test_training_run_keeps_its_scheme_on_resume(tmp_path):
    from harness.train.runner import train_id_scheme, write_run_json

    src = _write(tmp_path / "easy_arith" / "train.jsonl", [1])
    cfg = _train_cfg(tmp_path, src, tmp_path / "base")
    assert train_id_scheme(cfg) == ID_SCHEME
    write_run_json(cfg, "m")
    path = tmp_path / "train" / "train_run.json"
    assert json.loads(path.read_text())["id_scheme"] == ID_SCHEME
    meta = json.loads(path.read_text())
    meta.pop("id_scheme")
    path.write_text(json.dumps(meta))
    assert train_id_scheme(cfg) == LEGACY_SCHEME  # an old run resumed stays scheme 1
    write_run_json(cfg, "m")
    assert json.loads(path.read_text())["id_scheme"] == LEGACY_SCHEME
    from dataclasses import replace

    assert train_id_scheme(replace(cfg, resume=False)) == ID_SCHEME  # a fresh start takes the current scheme


def test_compare_steps_and_seed_table_refuse_runs_of_two_schemes(tmp_path):
    from harness.analyze import compare_steps, seed_table

    def report(path, scheme, prefix):
        per = {f"{prefix}/test/{i}": {"n": 4, "c": i} for i in range(4)}
        body = {"steps": {"50": {"per_problem": per}}}
        if scheme is not None:
            body["id_scheme"] = scheme
        path.write_text(json.dumps(body))
        return str(path)

    new = report(tmp_path / "new.json", 2, "gsm8k/easy_arith-3f2a9c1b")
    old = report(tmp_path / "old.json", None, "gsm8k")
    new2 = report(tmp_path / "new2.json", 2, "gsm8k/easy_arith-3f2a9c1b")
    assert compare_steps.main([new, "--a", "50", "--b", "50", "--run-b", new2, "--boot", "50"]) == 0
    with pytest.raises(SystemExit) as e:
        compare_steps.main([new, "--a", "50", "--b", "50", "--run-b", old, "--boot", "50"])
    msg = str(e.value)
    assert f"{new} names problems with id_scheme 2, {old} with id_scheme 1" in msg and f"re-sample {old}" in msg
    with pytest.raises(SystemExit, match=r"id_scheme 1.*id_scheme 2"):
        seed_table.build([("A", "1", old), ("B", "1", new)], 50, "A", n_boot=50)
    # same scheme but nothing in common: an error, never zero pairs
    with pytest.raises(SystemExit, match="no problem in common"):
        compare_steps.compare(compare_steps.frame_from_metrics(new, 50), 50, 50,
                              df_b=compare_steps.frame_from_metrics(old, 50))

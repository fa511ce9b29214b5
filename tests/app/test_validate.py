"""``adcbridge validate``: the installation/operational qualification re-runs the bundled reference comparisons
and writes validation.json and validation.html atomically; exit 0 when all pass, 1 when one fails, 2 for bad
arguments."""

from __future__ import annotations

import json
import math
import re

import pytest
import typer

from adcbridge import cli
from adcbridge.cli.qualification import validate_cmd
from adcbridge.qualification import checks, report
from tests.clirun import run

#: the areas the brief asks for, each with the least number of checks it must hold
REQUIRED_AREAS = {"installation": 2, "boin_boundaries": 47, "boin_select_mtd": 243, "boin_oc": 27, "crm": 24,
                  "three_plus_three": 5, "dose_response": 15, "nca": 12, "spr_kinetics": 6, "internalization": 7,
                  "xenograft": 7, "translation": 20}
FAST_AREAS = {"crm", "three_plus_three", "translation"}


@pytest.fixture
def validate(monkeypatch):
    """``adcbridge validate ARGS`` in-process through ``adcbridge.cli.main`` (so a ValueError exits 2 with one
    line); while the command is not yet registered in the app, through an app that has it."""
    names = {c.name or (c.callback.__name__ if c.callback else None) for c in cli.app.registered_commands}
    if "validate" not in names:
        app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        app.command("validate")(validate_cmd)
        app.command("version")(lambda: None)            # two commands, so the command name is kept
        monkeypatch.setattr(cli, "app", app)

    def call(capsys, *args):
        return run(capsys, "validate", *args)
    return call


def _stray(folder):
    """Anything in ``folder`` that is not one of the expected names (a left-over temporary folder)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_validate_passes_on_this_installation_and_writes_both_files(tmp_path, capsys, validate):
    out = tmp_path / "qual"
    code, stdout, stderr = validate(capsys, "--out", out)
    assert code == 0, stdout + stderr
    assert sorted(p.name for p in out.iterdir()) == ["validation.html", "validation.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["qual"]               # atomic: no temporary folder left
    assert "warning" not in stderr

    record = json.loads((out / "validation.json").read_text())
    assert record["result"] == "PASS" and record["passed"] is True
    assert record["checks_failed"] == 0 and record["checks_passed"] == record["checks_total"] == len(record["checks"])
    env = record["environment"]
    for key in ("adcbridge", "python", "numpy", "scipy", "pandas", "platform", "date"):
        assert env[key], key
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", record["date"])

    per_area = {}
    for c in record["checks"]:
        per_area[c["area"]] = per_area.get(c["area"], 0) + 1
        assert c["passed"] is True and c["error"] is None, c["id"]
        assert c["source"] and c["tolerance"] and c["what"] and c["case"], c["id"]
        assert c["compared"] >= 1 and c["ratio"] is not None and c["ratio"] <= 1, c["id"]
        assert {"observed", "expected", "deviation", "quantity"} <= set(c), c["id"]
    assert len({c["id"] for c in record["checks"]}) == len(record["checks"])          # ids are unique
    for area, minimum in REQUIRED_AREAS.items():
        assert per_area.get(area, 0) >= minimum, area
    assert [a["area"] for a in record["areas"]] == list(per_area)
    for a in record["areas"]:                                                  # one line per area on stdout
        assert f"{a['area']}: {a['checks']}/{a['checks']} passed" in stdout
    assert f"PASS: {len(record['checks'])} of {len(record['checks'])} checks passed" in stdout
    assert f"wrote {out / 'validation.html'}" in stdout
    # sources name the reference tools and their versions
    sources = {}
    for c in record["checks"]:
        sources[c["area"]] = sources.get(c["area"], "") + " | " + c["source"]
    for area, tool in [("boin_boundaries", "BOIN 2.7.2"), ("boin_select_mtd", "BOIN 2.7.2"), ("boin_oc", "BOIN 2.7.2"),
                       ("crm", "dfcrm 0.2-2.1"), ("three_plus_three", "Storer (1989)"), ("dose_response", "drc 3.0-1"),
                       ("nca", "NonCompart 0.8.0"), ("nca", "WinNonlin 6.4"), ("spr_kinetics", "nls.lm"),
                       ("xenograft", "nlme"), ("translation", "FDA (2005)"), ("translation", "Li C et al.")]:
        assert tool in sources[area], (area, tool)
    assert record["reference_data"]["total_bytes"] < 600_000

    html = (out / "validation.html").read_text()
    n = len(record["checks"])
    assert f"{n} of {n} checks passed" in html and 'class="fail"' not in html
    for area in REQUIRED_AREAS:
        assert f'id="area-{area}"' in html
    assert "<script" not in html and "http" not in html.split("<body>")[0]       # self-contained


def test_existing_folder_without_force_exits_2_and_is_untouched(tmp_path, capsys, validate):
    out = tmp_path / "qual"
    out.mkdir()
    (out / "keep.txt").write_text("earlier report")
    code, _, stderr = validate(capsys, "--out", out)
    assert code == 2
    assert "exists" in stderr and "--force" in stderr and len(stderr.strip().splitlines()) == 1
    assert [p.name for p in out.iterdir()] == ["keep.txt"] and (out / "keep.txt").read_text() == "earlier report"
    assert [p.name for p in tmp_path.iterdir()] == ["qual"]


def test_a_broken_comparison_fails_with_exit_1_and_is_marked(tmp_path, capsys, validate, monkeypatch):
    """The published HED (9.73 mg/kg) replaced by a wrong value: exactly that check fails, in JSON and HTML; the
    previous report in the folder is replaced (--force) in one step."""
    monkeypatch.setattr(checks, "AREAS", [a for a in checks.AREAS if a.id in FAST_AREAS])
    out = tmp_path / "qual"
    code, stdout, stderr = validate(capsys, "--out", out)                 # a previous report, all passed
    assert code == 0, stdout + stderr
    assert json.loads((out / "validation.json").read_text())["result"] == "PASS"
    monkeypatch.setitem(checks.PUBLISHED, "hed_hnstd30_cyno_bsa", 9.0)
    code, stdout, stderr = validate(capsys, "--out", out, "--force")
    assert code == 1, stdout + stderr
    assert sorted(p.name for p in out.iterdir()) == ["validation.html", "validation.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["qual"]
    failed_id = "translation.fih.hnstd_30_monkey"
    assert f"FAILED: {failed_id}" in stdout and "FAIL: " in stdout

    record = json.loads((out / "validation.json").read_text())
    assert record["result"] == "FAIL" and record["failed_checks"] == [failed_id]
    assert record["checks_failed"] == 1 and record["checks_passed"] == record["checks_total"] - 1
    bad = next(c for c in record["checks"] if c["id"] == failed_id)
    assert bad["passed"] is False and bad["quantity"] == "HED (mg/kg)"
    assert bad["expected"] == 9.0 and math.isclose(bad["observed"], 30 * 12 / 37, rel_tol=1e-12)
    assert bad["ratio"] > 1 and bad["failed_quantities"] == ["HED (mg/kg)"]
    assert all(c["passed"] for c in record["checks"] if c["id"] != failed_id)

    html = (out / "validation.html").read_text()
    assert f'<tr class="fail" id="check-{failed_id}">' in html
    assert html.count('<tr class="fail" id="check-') == 1
    n = record["checks_total"]
    assert f"<strong>FAIL</strong>: {n - 1} of {n} checks passed" in html
    assert f'href="#check-{failed_id}"' in html                      # listed up front among the failed checks


def _tree(folder) -> dict:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("make, why", [
    (lambda d: (d / "notes.txt").write_text("years of work"), "this one holds notes.txt"),
    (lambda d: ((d / "validation.json").write_text('{"command": "adcbridge validate"}'),
                (d / "thesis").mkdir()), "this one holds thesis"),
    (lambda d: (d / "validation.json").write_text('{"mine": 1}'), "this one has no validation.json of a validation "
                                                                   "report"),
    (lambda d: (d / "validation.html").write_text("<p>mine</p>"), "this one has no validation.json of a validation "
                                                                  "report"),
])
def test_force_refuses_an_unrelated_folder_before_any_check_and_leaves_it_untouched(tmp_path, capsys, validate,
                                                                                    monkeypatch, make, why):
    ran = []
    monkeypatch.setattr(checks, "run_checks", lambda **kw: ran.append(1))
    out = tmp_path / "docs"
    out.mkdir()
    make(out)
    before = _tree(out)
    code, stdout, stderr = validate(capsys, "--out", out, "--force")
    assert code == 2 and stdout == "" and len(stderr.strip().splitlines()) == 1, stderr
    assert stderr.startswith(f"adcbridge: error: {out}: --force replaces only a folder written by adcbridge validate")
    assert why in stderr and stderr.strip().endswith("; choose another folder"), stderr
    assert ran == [] and _tree(out) == before and [p.name for p in tmp_path.iterdir()] == ["docs"]


def test_force_writes_into_an_empty_folder_and_refuses_a_link(tmp_path, capsys, validate, monkeypatch):
    monkeypatch.setattr(checks, "AREAS", [a for a in checks.AREAS if a.id == "translation"])
    out = tmp_path / "qual"
    out.mkdir()
    code, stdout, stderr = validate(capsys, "--out", out, "--force")
    assert code == 0, stdout + stderr
    assert sorted(p.name for p in out.iterdir()) == ["validation.html", "validation.json"]
    link = tmp_path / "link"
    link.symlink_to(out)
    before = _tree(out)
    code, _, stderr = validate(capsys, "--out", link, "--force")
    assert code == 2 and f"{link}: is a link; --force replaces only a folder written by adcbridge validate" in stderr
    assert link.is_symlink() and _tree(out) == before


def test_write_report_checks_the_folder_again_just_before_replacing_it(tmp_path, monkeypatch):
    """The library call refuses an unrelated folder too, and a previous report that gained a file while the report
    was made is left as it is (nothing staged is left behind)."""
    run = checks.run_checks(["translation"])
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.csv").write_text("a\n1\n")
    with pytest.raises(ValueError, match="holds keep.csv; choose another folder"):
        report.write_report(run, mine, force=True)
    assert _tree(mine) == {"keep.csv": b"a\n1\n"}

    out = tmp_path / "qual"
    report.write_report(run, out)
    before = _tree(out)
    render = report.render_html

    def meanwhile(record):
        (out / "notes.txt").write_text("written meanwhile")
        return render(record)
    monkeypatch.setattr(report, "render_html", meanwhile)
    with pytest.raises(ValueError, match="holds notes.txt"):
        report.write_report(run, out, force=True)
    assert _tree(out) == {**before, "notes.txt": b"written meanwhile"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "qual"]
    monkeypatch.setattr(report, "render_html", render)
    (out / "notes.txt").unlink()
    report.write_report(run, out, force=True)                             # a previous report alone is replaced
    assert sorted(p.name for p in out.iterdir()) == ["validation.html", "validation.json"]


def test_a_failed_write_leaves_nothing_behind(tmp_path, capsys, validate, monkeypatch):
    monkeypatch.setattr(checks, "AREAS", [a for a in checks.AREAS if a.id == "translation"])

    def broken(record):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(report, "render_html", broken)
    out = tmp_path / "qual"
    code, _, stderr = validate(capsys, "--out", out)
    assert code == 2 and "No space left on device" in stderr
    assert list(tmp_path.iterdir()) == []


def test_a_file_in_place_of_the_folder_or_the_current_folder_is_refused(tmp_path, capsys, validate, monkeypatch):
    target = tmp_path / "qual"
    target.write_text("x")
    code, _, stderr = validate(capsys, "--out", target, "--force")
    assert code == 2 and "not a folder" in stderr
    assert target.read_text() == "x"
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for out in (".", ".."):
        code, _, stderr = validate(capsys, "--out", out, "--force")
        assert code == 2 and "the output folder is the working folder" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["qual", "work"]


def test_comparison_keeps_the_worst_value_relative_to_its_tolerance():
    cmp = checks.Comparison()
    cmp.close("a", [1.0, 2.0], [1.0, 2.0 + 1e-10], rtol=1e-9)                # ratio 0.05
    cmp.close("b", 10.0, 10.5, atol=1.0)                                     # ratio 0.5
    cmp.close("c", [float("nan")], [None], rtol=1e-9)                        # missing in both: fine
    assert cmp.passed and cmp.n == 4 and cmp.worst["quantity"] == "b" and cmp.worst["ratio"] == pytest.approx(0.5)
    cmp.close("d", [1.0, float("nan")], [1.0, 3.0], rtol=1e-9)               # missing only here: fails
    cmp.equal("e", [1, 2, None], [1, 2, None])
    assert not cmp.passed and cmp.failed == ["d[1]"]
    empty = checks.Comparison()
    assert not empty.passed                                                  # nothing compared is not a pass

"""``--force`` replaces only a folder that is a previous output of the same command (or empty): the shared check
(:func:`adcbridge.io.files.check_previous_output`) and its users ``adcbridge run``, ``demo`` and ``init`` and their
library calls ``run_study`` and ``write_template``, each checking again just before the folder is replaced.
(``adcbridge validate`` and ``sweep``: tests/app/test_validate.py, tests/unit/test_sweep_inputs.py.)"""

import os
import shutil
from pathlib import Path

import pytest

import adcbridge
from adcbridge.io.files import PreviousOutput, check_new_folder, check_previous_output, output_folder
from tests.clirun import run

EXAMPLE = Path(adcbridge.__file__).parent / "examples" / "jskn003_study"
FIH_STUDY = "name: ok\nanalyses:\n  - id: fih\n    kind: fih\n    data: data/fih_plan.yaml\n"


def _kind(record_ok=True):
    return PreviousOutput("adcbridge thing", files=("out.json", "report.html"), folders=("parts",),
                          check=lambda folder: None if (folder / "out.json").is_file() and record_ok
                          else "has no out.json of a thing")


def _tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


# ------------------------------------------------------------------------------------------ the shared check
def test_an_unrelated_folder_is_refused_with_force_and_left_untouched(tmp_path):
    out = tmp_path / "docs"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    (out / "out.json").write_text("{}")
    before = _tree(out)
    with pytest.raises(ValueError) as err:
        check_new_folder(out, True, previous=_kind())
    text = str(err.value)
    assert text.startswith(f"{out}: --force replaces only a folder written by adcbridge thing") and "\n" not in text
    assert "holds thesis.tex" in text
    with pytest.raises(ValueError, match="holds thesis.tex"):
        with output_folder(out, True, previous=_kind()) as staging:
            (staging / "out.json").write_text("new")
    assert _tree(out) == before and sorted(p.name for p in tmp_path.iterdir()) == ["docs"]


def test_many_foreign_entries_are_counted_and_a_failed_record_check_gives_its_reason(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    for name in "abcde":
        (out / name).write_text(name)
    with pytest.raises(ValueError, match=r"holds a, b, c and 2 more; choose another folder"):
        check_previous_output(out, True, _kind())
    shutil.rmtree(out)
    out.mkdir()
    (out / "report.html").write_text("x")             # only names the command writes, but no record
    with pytest.raises(ValueError, match="and this one has no out.json of a thing; choose another folder"):
        check_previous_output(out, True, _kind())
    (out / "out.json").write_text("{}")
    check_previous_output(out, True, _kind())
    with pytest.raises(ValueError, match="has no out.json of a thing"):
        check_previous_output(out, True, _kind(record_ok=False))


def test_a_file_where_a_folder_belongs_a_folder_where_a_file_belongs_and_links_are_refused(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "out.json").mkdir()                        # a folder under a file's name
    with pytest.raises(ValueError, match="holds out.json"):
        check_previous_output(out, True, _kind())
    shutil.rmtree(out / "out.json")
    (out / "out.json").write_text("{}")
    (out / "parts").write_text("a file under a folder's name")
    with pytest.raises(ValueError, match="holds parts"):
        check_previous_output(out, True, _kind())
    (out / "parts").unlink()
    (tmp_path / "elsewhere.json").write_text("{}")
    os.symlink(tmp_path / "elsewhere.json", out / "report.html")
    with pytest.raises(ValueError, match="holds report.html"):
        check_previous_output(out, True, _kind())
    (out / "report.html").unlink()
    link = tmp_path / "link"
    os.symlink(out, link)
    with pytest.raises(ValueError, match=f"^{link}: is a link; --force replaces only a folder written by"):
        check_new_folder(link, True, previous=_kind())


def test_an_empty_folder_or_a_previous_output_is_replaced_at_once(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    with output_folder(out, True, previous=_kind()) as staging:
        (staging / "out.json").write_text("first")
        (staging / "parts").mkdir()
        (staging / "parts" / "a.txt").write_text("a")
    assert _tree(out) == {"out.json": b"first", "parts": None, "parts/a.txt": b"a"}
    with output_folder(out, True, previous=_kind()) as staging:
        (staging / "out.json").write_text("second")
    assert _tree(out) == {"out.json": b"second"} and sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_the_folder_is_checked_again_just_before_it_is_replaced(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "out.json").write_text("old")
    with pytest.raises(ValueError, match="holds notes.txt"):
        with output_folder(out, True, previous=_kind()) as staging:
            (staging / "out.json").write_text("new")
            (out / "notes.txt").write_text("written meanwhile")
    assert _tree(out) == {"notes.txt": b"written meanwhile", "out.json": b"old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]                   # no staging left


def test_without_force_an_existing_folder_is_refused_as_before(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "out.json").write_text("{}")
    with pytest.raises(ValueError, match="the output folder exists; give --force to replace it"):
        check_new_folder(out, False, previous=_kind())
    check_previous_output(out, False, _kind())                                   # nothing to check without force
    check_previous_output(tmp_path / "new", True, _kind())                       # nor for a new folder


# ------------------------------------------------------------------------------------------ adcbridge run
@pytest.fixture
def study(tmp_path) -> Path:
    shutil.copytree(EXAMPLE / "data", tmp_path / "data")
    path = tmp_path / "study.yaml"
    path.write_text(FIH_STUDY)
    return path


def test_run_force_refuses_an_unrelated_folder_and_leaves_it_untouched(study, tmp_path, capsys):
    docs = tmp_path / "Documents"
    (docs / "results").mkdir(parents=True)
    (docs / "letter.txt").write_text("dear")
    (docs / "results" / "mine.csv").write_text("1,2")
    before = _tree(docs)
    code, out, err = run(capsys, "run", study, "--out", docs, "--force", "--quiet")
    assert code == 2 and out == ""
    assert err == (f"adcbridge: error: {docs}: --force replaces only a folder written by adcbridge run or demo, and "
                   f"this one holds letter.txt; choose another folder\n")
    assert _tree(docs) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]       # nothing staged


def test_run_force_replaces_a_previous_run_and_an_empty_folder(study, tmp_path, capsys):
    out = tmp_path / "report"
    out.mkdir()                                                                  # empty: may be used with --force
    code, _, err = run(capsys, "run", study, "--out", out, "--force", "--quiet")
    assert code == 0, err
    first = _tree(out)
    assert {"report.html", "summary.json", "results/fih.json"} <= set(first)
    # without --force an existing folder is refused, as before
    code, _, err = run(capsys, "run", study, "--out", out, "--quiet")
    assert code == 2 and err == f"adcbridge: error: {out}: the output folder exists; give --force to replace it\n"
    (out / "results" / "fih.json").write_text("edited")                          # a previous run's file, changed
    code, _, err = run(capsys, "run", study, "--out", out, "--force", "--quiet")
    assert code == 0, err
    assert {k: v for k, v in _tree(out).items() if k != "report.html"} == \
        {k: v for k, v in first.items() if k != "report.html"}                  # the report states its time
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("change, reason", [
    (lambda out: (out / "results" / "mine.csv").write_text("x"),
     "holds results/mine.csv, which is not a file of the analyses in its summary.json"),
    (lambda out: (out / "summary.json").write_text('{"name": "my own"}'), "has no summary.json of a study run"),
    (lambda out: (out / "summary.json").unlink(), "has no summary.json of a study run"),
    (lambda out: (out / "notes").mkdir(), "holds notes"),
])
def test_run_force_refuses_a_previous_run_with_other_files(study, tmp_path, capsys, change, reason):
    out = tmp_path / "report"
    assert run(capsys, "run", study, "--out", out, "--quiet")[0] == 0
    change(out)
    before = _tree(out)
    code, _, err = run(capsys, "run", study, "--out", out, "--force", "--quiet")
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith(f"adcbridge: error: {out}: --force replaces only a folder written by adcbridge run")
    assert reason in err
    assert _tree(out) == before


def test_demo_force_refuses_an_unrelated_folder_before_any_work(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("a")
    code, out, err = run(capsys, "demo", "--out", docs, "--force", "--quiet")
    assert code == 2 and out == "" and "holds a.txt" in err and (docs / "a.txt").read_text() == "a"


# ------------------------------------------------------------------------------------------ adcbridge init
def test_init_force_replaces_a_template_but_not_an_unrelated_folder(tmp_path, capsys):
    folder = tmp_path / "study"
    assert run(capsys, "init", folder)[0] == 0
    (folder / "study.yaml").write_text("name: edited\n")
    code, _, err = run(capsys, "init", folder, "--force")
    assert code == 0, err
    assert (folder / "study.yaml").read_bytes() == (EXAMPLE / "study.yaml").read_bytes()

    (folder / "report").mkdir()                                                  # a run's output kept inside it
    code, _, err = run(capsys, "init", folder, "--force")
    assert code == 2 and err == (f"adcbridge: error: {folder}: --force replaces only a folder written by adcbridge "
                                 f"init, and this one holds report; choose another folder\n")
    assert (folder / "report").is_dir()

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "study.yaml").write_text("name: mine\n")
    (mine / "README.md").write_text("# My own study\n")
    code, _, err = run(capsys, "init", mine, "--force")
    assert code == 2 and "has no study.yaml and README.md of the template study" in err
    assert sorted(p.name for p in mine.iterdir()) == ["README.md", "study.yaml"]
    assert (mine / "README.md").read_text() == "# My own study\n"


def test_init_force_refuses_a_link_to_a_template(tmp_path, capsys):
    folder = tmp_path / "study"
    assert run(capsys, "init", folder)[0] == 0
    link = tmp_path / "link"
    link.symlink_to(folder)
    before = _tree(folder)
    code, _, err = run(capsys, "init", link, "--force")
    assert code == 2 and err == (f"adcbridge: error: {link}: is a link; --force replaces only a folder written by "
                                 f"adcbridge init\n")
    assert link.is_symlink() and _tree(folder) == before


# ------------------------------------------------------------------------------------- without --force, later
def test_without_force_a_folder_made_while_the_outputs_were_written_is_not_replaced(tmp_path):
    out = tmp_path / "o"
    with pytest.raises(ValueError, match=f"^{out}: the output folder exists .*give --force to replace it$"):
        with output_folder(out, False, previous=_kind()) as staging:
            (staging / "out.json").write_text("new")
            out.mkdir()
            (out / "mine.txt").write_text("written meanwhile")
    assert _tree(out) == {"mine.txt": b"written meanwhile"} and sorted(p.name for p in tmp_path.iterdir()) == ["o"]


# ---------------------------------------------------------------------------- the library calls: run_study
def test_run_study_force_refuses_an_unrelated_folder_and_replaces_a_previous_run(study, tmp_path):
    from adcbridge.study import load_study, run_study
    spec = load_study(study)
    docs = tmp_path / "Documents"
    docs.mkdir()
    (docs / "letter.txt").write_text("dear")
    with pytest.raises(ValueError) as err:
        run_study(spec, docs, force=True)
    assert str(err.value) == (f"{docs}: --force replaces only a folder written by adcbridge run or demo, and this "
                              f"one holds letter.txt; choose another folder")
    assert _tree(docs) == {"letter.txt": b"dear"}

    out = tmp_path / "report"
    out.mkdir()                                                                  # empty: replaced
    assert run_study(spec, out, force=True).ok
    first = _tree(out)
    assert {"report.html", "summary.json", "results/fih.json"} <= set(first)
    (out / "results" / "fih.json").write_text("edited")
    assert run_study(spec, out, force=True).ok                                   # a previous run: replaced
    assert (out / "results" / "fih.json").read_bytes() == first["results/fih.json"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_run_study_checks_the_folder_again_just_before_replacing_it(study, tmp_path):
    from adcbridge.study import load_study, run_study
    spec = load_study(study)
    out = tmp_path / "report"
    assert run_study(spec, out).ok
    before = _tree(out)

    def progress(i, n, analysis_id, status):
        (out / "notes.txt").write_text("written meanwhile")
    with pytest.raises(ValueError, match="adcbridge run or demo, and this one holds notes.txt"):
        run_study(spec, out, force=True, progress=progress)
    assert _tree(out) == {**before, "notes.txt": b"written meanwhile"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# ------------------------------------------------------------------------ the library calls: write_template
def test_write_template_force_refuses_an_unrelated_folder_and_replaces_a_previous_template(tmp_path):
    from adcbridge.study.template import write_template
    mine = tmp_path / "mine"
    (mine / "data").mkdir(parents=True)
    (mine / "data" / "pk.csv").write_text("t,c\n")
    (mine / "notes.md").write_text("mine")
    before = _tree(mine)
    with pytest.raises(ValueError) as err:
        write_template(EXAMPLE, mine, force=True)
    assert str(err.value) == (f"{mine}: --force replaces only a folder written by adcbridge init, and this one holds "
                              f"notes.md; choose another folder")
    assert _tree(mine) == before

    folder = tmp_path / "study"
    folder.mkdir()                                                               # empty: no --force needed
    written = write_template(EXAMPLE, folder)
    assert folder / "study.yaml" in written
    (folder / "study.yaml").write_text("name: edited\n")
    with pytest.raises(ValueError, match="the folder is not empty; give --force to replace it"):
        write_template(EXAMPLE, folder)
    write_template(EXAMPLE, folder, force=True)                                  # a previous template: replaced
    assert (folder / "study.yaml").read_bytes() == (EXAMPLE / "study.yaml").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "study"]


@pytest.mark.parametrize("force, words", [(True, "adcbridge init, and this one holds notes.txt"),
                                          (False, "the folder is not empty; give --force to replace it")])
def test_write_template_checks_the_folder_again_just_before_replacing_it(tmp_path, monkeypatch, force, words):
    from adcbridge.study import template
    folder = tmp_path / "study"
    if force:
        template.write_template(EXAMPLE, folder)                                 # a previous template
    else:
        folder.mkdir()                                                           # empty
    before = _tree(folder)
    copytree = shutil.copytree

    def meanwhile(*args, **kwargs):
        (folder / "notes.txt").write_text("written meanwhile")
        return copytree(*args, **kwargs)
    monkeypatch.setattr(template.shutil, "copytree", meanwhile)
    with pytest.raises(ValueError, match=words):
        template.write_template(EXAMPLE, folder, force=force)
    assert _tree(folder) == {**before, "notes.txt": b"written meanwhile"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study"]

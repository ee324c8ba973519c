"""Configuration files, flags over files, `cfnaudit config`, errors naming the key, rule sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers import run

from cfnaudit.api import Config, resolve_rules
from cfnaudit.categories import CATEGORIES
from cfnaudit.config import ConfigError, find_config_file, load
from cfnaudit.engine import ENGINE_RULES
from cfnaudit.rulesets import BASELINE_CATEGORIES, RULESETS

UNROTATED = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n"
PARAMETERISED = """\
Parameters:
  Rotate: {Type: String, AllowedValues: ["true", "false"]}
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: !Ref Rotate
"""
USER_RULE = '''\
from cfnaudit.rule import Severity, Violation, rule


@rule(code="USR001", name="too-many-queues", severity=Severity.WARNING, category="outputs",
      resource_types=("AWS::SQS::Queue",), options={"limit": 1})
def too_many(ctx):
    """Too many queues."""
    queues = list(ctx.resources())
    if len(queues) > ctx.option("limit"):
        yield Violation(f"{len(queues)} queues", queues[0].path)
'''
TWO_QUEUES = "Resources:\n  A: {Type: AWS::SQS::Queue}\n  B: {Type: AWS::SQS::Queue}\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder, made the working directory."""
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---------------------------------------------------------------------------- discovery


def test_nearest_file_is_found_from_a_subfolder(repo: Path) -> None:
    (repo / ".cfnaudit.yaml").write_text("fail_on: error\n")
    assert find_config_file(repo / "sub" / "deeper") == repo / ".cfnaudit.yaml"
    (repo / "sub" / ".cfnaudit.yml").write_text("fail_on: info\n")
    assert find_config_file(repo / "sub" / "deeper") == repo / "sub" / ".cfnaudit.yml"


def test_pyproject_counts_only_with_a_tool_cfnaudit_table(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.cfnaudit]\nfail-on = 'error'\n")
    (repo / "sub" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert find_config_file(repo / "sub" / "deeper") == repo / "pyproject.toml"
    assert load({}, cwd=repo / "sub")["fail_on"] == "error"  # hyphenated keys read too


def test_yaml_file_wins_over_pyproject_in_the_same_folder(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.cfnaudit]\nfail_on = 'error'\n")
    (repo / ".cfnaudit.yaml").write_text("fail_on: info\n")
    assert load({}, cwd=repo)["fail_on"] == "info"


def test_explicit_and_isolated(repo: Path) -> None:
    (repo / ".cfnaudit.yaml").write_text("fail_on: info\n")
    (repo / "ci.toml").write_text("ruleset = 'baseline'\n")
    explicit = load({}, config_file=repo / "ci.toml", cwd=repo)
    # fail_on is the default (error), not the info of the .cfnaudit.yaml that is not read
    assert (explicit["ruleset"], explicit["fail_on"]) == ("baseline", "error")
    assert load({}, isolated=True, cwd=repo).source is None
    with pytest.raises(ConfigError, match="configuration file not found"):
        load({}, config_file=repo / "missing.yaml", cwd=repo)


# --------------------------------------------------------------------- flags over the file


def test_config_command_prints_the_effective_configuration(
        capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    (repo / ".cfnaudit.yaml").write_text(
        "select: [KMS]\nfail_on: error\noptions:\n  USR001: {limit: 5}\n"
        "parameters: {Env: prod, Count: 3, Flags: [a, b]}\nrules_dirs: [rules]\n"
        "baseline: base.json\n")
    code, out, _ = run(capsys, "config", "--select", "KMS001", "--option", "USR001.other=1",
                       "--param", "Env=dev")
    assert code == 0
    assert out.startswith(f"# effective cfnaudit configuration\n# from: {repo / '.cfnaudit.yaml'}")
    effective = yaml.safe_load(out)
    assert effective["select"] == ["KMS001"]  # a flag replaces the file's list
    assert effective["fail_on"] == "error"  # the file's value where no flag is given
    assert effective["options"] == {"USR001": {"limit": 5, "other": "1"}}  # merged per key
    assert effective["parameters"] == {"Env": "dev", "Count": "3", "Flags": "a,b"}
    assert effective["rules_dirs"] == [str(repo / "rules")]  # relative to the file
    assert effective["baseline"] == str(repo / "base.json")
    assert effective["ruleset"] == "pipeline" and effective["jobs"] == 0
    _, out, _ = run(capsys, "config", "--format", "json", "--isolated")
    document = json.loads(out)
    assert document["source"] is None and document["settings"]["select"] == []


def test_fail_on_from_the_file_and_the_flag(capsys: pytest.CaptureFixture[str],
                                            repo: Path) -> None:
    (repo / "t.yaml").write_text(UNROTATED)
    (repo / ".cfnaudit.yaml").write_text("select: [KMS001]\nfail_on: error\n")
    (repo / "rules").mkdir()
    assert run(capsys, "scan", "t.yaml")[0] == 1  # KMS001 is an error
    (repo / ".cfnaudit.yaml").write_text("select: [KMS001]\nignore: [KMS001]\n")
    code, out, _ = run(capsys, "scan", "t.yaml")
    assert code == 0 and "0 findings" in out
    code, _, _ = run(capsys, "scan", "--ignore", "GRF", "t.yaml")  # the flag replaces ignore
    assert code == 1


def test_parameters_and_rule_directories_from_the_file(
        capsys: pytest.CaptureFixture[str], repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "rules").mkdir()
    (repo / "rules" / "user.py").write_text(USER_RULE)
    (repo / "stack").mkdir()
    (repo / "stack" / "queues.yaml").write_text(TWO_QUEUES)
    (repo / "stack" / "key.yaml").write_text(PARAMETERISED)
    (repo / ".cfnaudit.yaml").write_text(
        "select: [KMS001, USR001]\nrules_dirs: [rules]\nparameters: {Rotate: 'false'}\n")
    monkeypatch.chdir(repo / "stack")  # the file is found in a parent; its paths stay its own
    code, out, _ = run(capsys, "scan", "--format", "json", ".")
    found = {(f["code"], f["file"]) for f in json.loads(out)["findings"]}
    assert found == {("USR001", "queues.yaml"), ("KMS001", "key.yaml")}
    code, out, _ = run(capsys, "scan", "--param", "Rotate=true", "--option", "USR001.limit=2",
                       "--format", "json", ".")
    assert json.loads(out)["findings"] == [] and code == 0


# --------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("text", "named"), [
    ("selcet: [KMS001]\n", "unknown key `selcet`"),
    ("fail_on: fatal\n", "`fail_on` must be one of error, warning, info"),
    ("jobs: -1\n", "`jobs` must be an integer of at least 0"),
    ("jobs: true\n", "`jobs` must be an integer"),
    ("ruleset: strict\n", "`ruleset` must be one of baseline, pipeline"),
    ("options: [KMS001]\n", "`options` must map rule codes"),
    ("options: {KMS001: 3}\n", "`options.KMS001` must map option names"),
    ("parameters: {Env: {a: 1}}\n", "`parameters.Env` must be a string"),
    ("per_path_ignores: [legacy]\n", "`per_path_ignores` must map glob patterns"),
    ("respect_gitignore: 'yes'\n", "`respect_gitignore` must be true or false"),
    ("include: 3\n", "`include` must be a list of glob patterns"),
    ("select: {a: 1}\n", "`select` must be a list of rule codes"),
    ("sarif_category: 'two words'\n", "`sarif_category` must be a name without spaces"),
    ("- a list\n", "must be a mapping of settings"),
    ("key: [unclosed\n", "not valid YAML: line 2, column 1: expected ',' or ']'"),
])
def test_bad_configuration_exits_two_naming_the_key(
        capsys: pytest.CaptureFixture[str], repo: Path, text: str, named: str) -> None:
    (repo / ".cfnaudit.yaml").write_text(text)
    (repo / "t.yaml").write_text(UNROTATED)
    for command in (["scan", "t.yaml"], ["config"]):
        code, _, err = run(capsys, *command)
        assert code == 2
        assert err.startswith(f"cfnaudit: error: {repo / '.cfnaudit.yaml'}"), err
        assert named in err and err.count("\n") == 1, err


def test_unknown_rule_option_in_the_file_is_an_error(capsys: pytest.CaptureFixture[str],
                                                     repo: Path) -> None:
    (repo / ".cfnaudit.yaml").write_text("options:\n  KMS001: {days: 3}\n")
    (repo / "t.yaml").write_text(UNROTATED)
    code, _, err = run(capsys, "scan", "t.yaml")
    assert code == 2 and "rule KMS001 has no option 'days'" in err


def test_pyproject_errors_name_the_file(capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.cfnaudit]\nfail-on = 'never'\n")
    code, _, err = run(capsys, "config")
    assert code == 2
    assert "pyproject.toml: `fail_on` must be one of" in err


# ------------------------------------------------------------------------------ rule sets


def test_every_rule_category_belongs_to_the_pipeline_set() -> None:
    engine = {r.category for r in ENGINE_RULES}
    assert set(CATEGORIES) - engine <= RULESETS["pipeline"].categories
    assert RULESETS["pipeline"].categories > BASELINE_CATEGORIES


def test_baseline_set_holds_only_baseline_categories() -> None:
    baseline = resolve_rules(Config(ruleset="baseline"))
    pipeline = resolve_rules(Config(ruleset="pipeline"))
    assert baseline and all(r.category in BASELINE_CATEGORIES for r in baseline)
    assert {r.code for r in baseline} < {r.code for r in pipeline}
    assert "KMS001" in {r.code for r in baseline}
    assert "GRF001" in {r.code for r in baseline}  # dependency cycles fit any stack


def test_select_replaces_the_set_and_extend_select_adds(repo: Path) -> None:
    (repo / "rules").mkdir()
    (repo / "rules" / "user.py").write_text(USER_RULE)
    user_dir = (repo / "rules",)
    baseline = {r.code for r in resolve_rules(Config(ruleset="baseline", rules_dirs=user_dir))}
    assert "USR001" in baseline  # rules from user directories are in every set
    pipeline_only = next(r for r in resolve_rules(Config())
                         if r.category not in BASELINE_CATEGORIES)
    assert pipeline_only.code not in baseline
    extended = resolve_rules(Config(ruleset="baseline", extend_select=(pipeline_only.code,)))
    assert pipeline_only.code in {r.code for r in extended}
    selected = resolve_rules(Config(ruleset="baseline", select=(pipeline_only.code,)))
    assert [r.code for r in selected] == [pipeline_only.code]
    ignored = resolve_rules(Config(ruleset="baseline", ignore=("KMS",)))
    assert not any(r.code.startswith("KMS") for r in ignored)


def test_ruleset_flag_and_unknown_patterns(capsys: pytest.CaptureFixture[str],
                                          repo: Path) -> None:
    (repo / "t.yaml").write_text(UNROTATED)
    code, out, _ = run(capsys, "scan", "--ruleset", "baseline", "--format", "json", "t.yaml")
    codes = {f["code"] for f in json.loads(out)["findings"]}
    assert "KMS001" in codes and "TAG001" not in codes
    code, _, err = run(capsys, "scan", "--extend-select", "NOPE", "t.yaml")
    assert code == 2 and "no rule matches 'NOPE'" in err


def test_rules_command_lists_every_rule_or_one_set(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "rules", "--format", "json")
    every = json.loads(out)
    assert {r["code"] for r in every} == {r.code for r in resolve_rules(Config(select=("ALL",)))}
    kms = next(r for r in every if r["code"] == "KMS001")
    assert kms["rulesets"] == ["baseline", "pipeline"]
    _, out, _ = run(capsys, "rules", "--ruleset", "baseline")
    listed = {line.split()[0] for line in out.splitlines()}
    assert listed == {r.code for r in resolve_rules(Config(ruleset="baseline"))}

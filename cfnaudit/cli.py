"""Command line: parse options, call the API, print, set the exit code. No logic of its own."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from cfnaudit import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _split(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def _pairs(values: Sequence[str], what: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"{what} takes KEY=VALUE, not {value!r}")
        pairs.append((key.strip(), text))
    return pairs


def _rule_options(values: Sequence[str]) -> dict[str, dict[str, Any]]:
    options: dict[str, dict[str, Any]] = {}
    for key, text in _pairs(values, "--option"):
        code, dot, name = key.partition(".")
        if not dot or not name:
            raise click.UsageError(f"--option takes CODE.key=value, not {key!r}")
        options.setdefault(code, {})[name] = text
    return options


def _use_color(choice: bool | None) -> bool:
    if choice is not None:
        return choice
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get(
        "TERM") != "dumb"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="cfnaudit")
def cli() -> None:
    """cfnaudit: compliance linter and static analyzer for AWS CloudFormation templates."""


def _settings_options(command: Any) -> Any:
    """Options shared by `scan` and `config`: each overrides the configuration file when
    given (None / empty means "not given")."""
    options = [
        click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="Configuration file (default: nearest .cfnaudit.yaml or "
                          "pyproject.toml [tool.cfnaudit]).", is_eager=False),
        click.option("--isolated", is_flag=True, help="Ignore configuration files."),
        click.option("--ruleset", type=click.Choice(["baseline", "pipeline"]),
                     help="Named rule set (default: pipeline)."),
        click.option("--select", multiple=True, metavar="CODES",
                     help="Run only rules whose code starts with one of these (comma-separated);"
                          " replaces the rule set."),
        click.option("--extend-select", multiple=True, metavar="CODES",
                     help="Add these rules to the rule set."),
        click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rules."),
        click.option("--fail-on", type=click.Choice(["error", "warning", "info"]),
                     help="Lowest severity that makes the exit code 1 (default: error)."),
        click.option("--option", "options", multiple=True, metavar="CODE.KEY=VALUE",
                     help="Set a rule option, e.g. TAG001.required_tags=Environment,Owner."),
        click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
                     help="Value for a template parameter (overrides its Default)."),
        click.option("--rules-dir", "rules_dirs", multiple=True,
                     type=click.Path(file_okay=False, path_type=Path),
                     help="Extra rule directory."),
        click.option("--include", multiple=True, metavar="GLOB",
                     help="Files scanned in folders (default: *.yaml *.yml *.json *.template)."),
        click.option("--exclude", multiple=True, metavar="GLOB",
                     help="Files or folders never scanned (.gitignore syntax)."),
        click.option("--respect-gitignore/--no-respect-gitignore", default=None,
                     help="Skip files that .gitignore files exclude (default: on)."),
        click.option("--no-suppress", multiple=True, metavar="CODES",
                     help="Refuse suppressions (metadata, comments, config, baseline) for these "
                          "rules."),
        click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path),
                     help="Report only findings not recorded in this baseline file."),
        click.option("--jobs", "-j", type=click.IntRange(0), default=None,
                     help="Parallel processes (0: one per CPU; default 1)."),
        click.option("--scenario-budget", type=click.IntRange(1, 100_000), default=None,
                     help="Most condition combinations checked per resource (default 64)."),
        click.option("--max-bytes", type=click.IntRange(1), default=None,
                     help="Largest template file read (default 5 MiB)."),
        click.option("--max-depth", type=click.IntRange(1, 10_000), default=None,
                     help="Deepest nesting accepted (default 100)."),
        click.option("--sarif-category", metavar="NAME",
                     help="SARIF automationDetails category (default: cfnaudit); give each "
                          "upload of one commit its own."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


_FLAG_KEYS = {  # click parameter -> configuration key
    "ruleset": "ruleset", "select": "select", "extend_select": "extend_select",
    "ignore": "ignore", "fail_on": "fail_on", "rules_dirs": "rules_dirs", "include": "include",
    "exclude": "exclude", "respect_gitignore": "respect_gitignore",
    "no_suppress": "no_suppress", "baseline": "baseline", "jobs": "jobs",
    "scenario_budget": "scenario_budget", "max_bytes": "max_bytes", "max_depth": "max_depth",
    "sarif_category": "sarif_category",
}
_LIST_FLAGS = frozenset({"select", "extend_select", "ignore", "no_suppress"})


def _load_settings(values: dict[str, Any]) -> Any:
    """Configuration file values overridden by the flags that were given."""
    from cfnaudit.config import load

    flags: dict[str, Any] = {}
    for param, key in _FLAG_KEYS.items():
        value = values.get(param)
        if value is None or value == ():
            continue
        flags[key] = _split(value) if param in _LIST_FLAGS else value
    if values.get("options"):
        flags["options"] = _rule_options(values["options"])
    if values.get("params"):
        flags["parameters"] = dict(_pairs(values["params"], "--param"))
    return load(flags, values.get("config_file"), bool(values.get("isolated")))


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "-f", "output_format", default="text", show_default=True,
              type=click.Choice(["text", "json", "sarif", "github", "gitlab", "junit"]),
              help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to FILE instead of standard output.")
@click.option("--write-baseline", type=click.Path(dir_okay=False, path_type=Path),
              help="Record the current findings in FILE and exit 0.")
@click.option("--show-suppressed", is_flag=True, help="List suppressed findings in text output.")
@click.option("--color/--no-color", default=None, help="Force colour on or off.")
@click.option("--verbose", "-v", is_flag=True, help="Also list skipped files.")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@_settings_options
def scan(paths: tuple[Path, ...], output_format: str, output: Path | None,
         write_baseline: Path | None, show_suppressed: bool, color: bool | None, verbose: bool,
         debug: bool, **values: Any) -> None:
    """Scan templates (files or folders) and report findings."""
    from cfnaudit.api import audit
    from cfnaudit.formatters import progress as progress_bar

    settings = _load_settings(values)
    config = settings.to_config(debug=debug)
    progress = progress_bar.ProgressBar(progress_bar.wanted(
        sys.stderr.isatty(), output_format, to_file=output is not None))
    try:
        report = audit(paths, config, progress=progress)
    finally:
        progress.close()
    if write_baseline is not None:
        from cfnaudit import baseline

        count = baseline.write(write_baseline, report.findings)
        click.echo(f"cfnaudit: recorded {count} finding{'s' if count != 1 else ''} in "
                   f"{write_baseline}", err=True)
        sys.exit(EXIT_ERROR if any(f.is_error for f in report.findings) else EXIT_CLEAN)
    use_color = output is None and output_format == "text" and _use_color(color)
    text = _render(report, output_format, use_color, show_suppressed,
                   settings["sarif_category"])
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    if verbose:
        for outcome in report.files:
            if outcome.status == "skipped":
                click.echo(f"skipped {outcome.file}: {outcome.note}", err=True)
    sys.exit(report.exit_code(config.fail_on))


@cli.command("config")
@click.option("--format", "-f", "output_format", default="yaml", show_default=True,
              type=click.Choice(["yaml", "json"]))
@_settings_options
def config_command(output_format: str, **values: Any) -> None:
    """Print the effective configuration: the file's values with the flags applied."""
    click.echo(_load_settings(values).render(output_format), nl=False)


def _render(report: Any, output_format: str, color: bool, show_suppressed: bool,
            sarif_category: str = "cfnaudit") -> str:
    if output_format == "json":
        from cfnaudit.formatters import json_format

        return json_format.render(report)
    if output_format == "sarif":
        from cfnaudit.formatters import sarif

        return sarif.render(report, sarif_category)
    if output_format == "github":
        from cfnaudit.formatters import github

        return github.render(report)
    if output_format == "gitlab":
        from cfnaudit.formatters import gitlab

        return gitlab.render(report)
    if output_format == "junit":
        from cfnaudit.formatters import junit

        return junit.render(report)
    from cfnaudit.formatters import text

    return text.render(report, color=color, show_suppressed=show_suppressed)


@cli.command("rules")
@click.option("--format", "-f", "output_format", default="text",
              type=click.Choice(["text", "json"]), show_default=True)
@click.option("--rules-dir", "rules_dirs", multiple=True,
              type=click.Path(file_okay=False, path_type=Path), help="Extra rule directory.")
@click.option("--ruleset", type=click.Choice(["baseline", "pipeline"]),
              help="Only the rules of this rule set.")
def rules_command(output_format: str, rules_dirs: tuple[Path, ...], ruleset: str | None
                  ) -> None:
    """List every rule: code, name, severity, category, summary."""
    import json

    from cfnaudit.api import Config, resolve_rules
    from cfnaudit.rulesets import RULESETS

    if ruleset is None:
        rules = resolve_rules(Config(rules_dirs=rules_dirs, select=("ALL",)))
    else:
        rules = resolve_rules(Config(rules_dirs=rules_dirs, ruleset=ruleset))
    if output_format == "json":
        click.echo(json.dumps([{"code": r.code, "name": r.name, "severity": r.severity.value,
                                "category": r.category, "summary": r.summary,
                                "resource_types": list(r.resource_types),
                                "options": dict(r.options),
                                "rulesets": [n for n, s in RULESETS.items() if s.contains(r)]}
                               for r in rules], indent=2, default=list))
        return
    rows = [(r.code, r.name, r.severity.value, r.category, r.summary) for r in rules]
    widths = [max(len(row[i]) for row in rows) if rows else 4 for i in range(4)]
    for row in rows:
        click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4]))
                   + "  " + row[4])


@cli.command()
@click.argument("code")
@click.option("--rules-dir", "rules_dirs", multiple=True,
              type=click.Path(file_okay=False, path_type=Path), help="Extra rule directory.")
def explain(code: str, rules_dirs: tuple[Path, ...]) -> None:
    """Show the full documentation of a rule."""
    from cfnaudit.api import Config, resolve_rules
    from cfnaudit.engine import ENGINE_RULES

    wanted = code.strip().upper()
    every_rule = resolve_rules(Config(rules_dirs=rules_dirs, select=("ALL",)))
    for item in (*every_rule, *ENGINE_RULES):
        if item.code == wanted or item.name == code.strip():
            options = "".join(f"\n- `{k}` (default `{v!r}`)" for k, v in item.options.items())
            click.echo(f"# {item.code} {item.name}\n\nseverity: {item.severity.value}, "
                       f"category: {item.category}\n\n{item.docs}\n"
                       + (f"\n## Option defaults{options}\n" if options else ""))
            return
    raise click.UsageError(f"no rule {code!r}; `cfnaudit rules` lists them")


def _fail(message: str) -> NoReturn:
    click.echo(f"cfnaudit: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: one clear line per error, tracebacks only with --debug."""
    from cfnaudit.baseline import BaselineError
    from cfnaudit.config import ConfigError
    from cfnaudit.registry import RegistryError

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="cfnaudit", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        _fail(exc.format_message())
    except click.ClickException as exc:
        _fail(exc.format_message())
    except click.exceptions.Abort:
        _fail("aborted")
    except (RegistryError, ConfigError, BaselineError) as exc:
        _fail(str(exc))
    except (BrokenPipeError, KeyboardInterrupt):
        sys.exit(EXIT_ERROR)
    except Exception as exc:
        if debug:
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)")
    sys.exit(EXIT_CLEAN)

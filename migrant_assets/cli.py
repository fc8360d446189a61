"""Command line: `migrant-assets generate` writes a synthetic city; `migrant-assets demo` is the
main job — it materializes every asset for every partition, in an order derived from the asset
graph (`runs.main_plan`), and prints a summary.

The demo degrades, never discards (issue 10): when a run fails, the steps that do not need what
it failed to materialize still run, the report is always written for what succeeded, and the
summary is always printed. The exit status is 1 when a run failed, 2 when the study config or
the mapping is wrong before any run, 3 when every run succeeded but a check of severity ERROR
on an ingested table did not pass (the outputs exist, from input that failed it: e.g. most calls
quarantined for one reason, usually the mapping), 0 otherwise (skipped experiments, checks with
nothing to judge, WARN checks, and the later stages' checks of what the data supports, such as
an empty group or mostly-null features, are not failures). A failure prints one paragraph —
what failed, where, what to change — and the traceback only with ``--verbose``; a failed check
prints what to check first.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from migrant_assets.config import (
    DEFAULT_DAGSTER_YAML,
    EARLY_WARNING_ON_SPARK,
    EARLY_WARNING_ON_SPARK_FIX,
    PROJECT_ROOT,
    StudyConfig,
    SyntheticSource,
    config_error,
    config_path,
)
from migrant_assets.errors import ConfigError, InputError

if TYPE_CHECKING:
    from dagster_shared.error import SerializableErrorInfo

#: Dagster's per-event console log is for the UI; the demo prints one line per run and its own
#: paragraph for a failure (Dagster's would print the traceback).
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
#: A run of the main job that lasts longer says every this many seconds that it is still
#: running (a month's landing or the departure models run for minutes at a city's size).
STILL_RUNNING_EVERY_S = 60.0


@contextmanager
def still_running(name: str, every_s: float, say: Callable[[str], None]) -> Iterator[None]:
    """While the block runs, ``say`` a line every ``every_s`` seconds that run ``name`` is
    still running, with its time so far (probe 25: four minutes of silence in the landing)."""
    begun, done = time.perf_counter(), threading.Event()

    def tell() -> None:
        while not done.wait(every_s):
            say(f"    {name}: still running, {time.perf_counter() - begun:.0f} s so far")

    teller = threading.Thread(target=tell, name=f"still running: {name}", daemon=True)
    teller.start()
    try:
        yield
    finally:
        done.set()
        teller.join()


#: Exit statuses.
FAILED_RUN, BAD_INPUT, FAILED_CHECK = 1, 2, 3


def _progress(message: str) -> None:
    print(f"  {message}", flush=True)


def _error(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- errors a person can act on


def _no_raw_numbers(text: str, limit: int = 300) -> str:
    """The first line of an error message that is not an :class:`InputError` (whose author
    vouches for it), long digit runs (phone numbers, ids) masked, at most ``limit``
    characters; a run of zeros (a hint's example of a code for unknown) is no one's number and
    is kept, while one that reads as a date may be a number (2012121212, 20151231)."""
    first = (text.strip().splitlines() or [""])[0]
    return re.sub(r"\d{7,}", lambda m: m[0] if set(m[0]) == {"0"} else "<number>",
                  first)[:limit]


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _input_error_names() -> set[str]:
    names, pending = set(), [InputError]
    while pending:
        cls = pending.pop()
        names.add(cls.__name__)
        pending += cls.__subclasses__()
    return names


def _chain(error: SerializableErrorInfo) -> Iterator[SerializableErrorInfo]:
    yield error
    for inner in (error.cause, error.context):
        if inner is not None:
            yield from _chain(inner)


def _message(error: SerializableErrorInfo) -> str:
    """The exception's message without its ``module.Class:`` prefix."""
    text = error.message.strip()
    head, sep, rest = text.partition(": ")
    return rest if sep and head.split(".")[-1] == error.cls_name else text


#: What to do when DuckDB ran out of the memory the study config gives it.
OUT_OF_MEMORY_FIX = ("Fix: raise duckdb.memory_limit in the study config (the models' steps: "
                     "duckdb.models_memory_limit), or free memory on the machine")


def explain(error: SerializableErrorInfo) -> tuple[str, bool]:
    """One paragraph for a failed step, and whether it is an input problem: the message of the
    innermost :class:`InputError` in the chain of causes (Dagster wraps the exception the code
    raised), else the class and first line of the exception the code raised (DuckDB out of
    memory: with :data:`OUT_OF_MEMORY_FIX`)."""
    names = _input_error_names()
    inputs = [e for e in _chain(error) if e.cls_name in names]
    if inputs:
        return _message(inputs[-1]), True
    raised = next((e for e in _chain(error)
                   if e.cls_name and not e.cls_name.startswith("Dagster")), error)
    text = f"{raised.cls_name}: {_no_raw_numbers(_message(raised))}"
    if raised.cls_name == "OutOfMemoryException":
        text = f"{text.rstrip('.')}. {OUT_OF_MEMORY_FIX}."
    return text, False


def _run_errors(result: Any) -> list[tuple[str, SerializableErrorInfo]]:
    """``(step, error)`` of each failed step of a run (the run's own error if no step failed)."""
    from dagster import DagsterEventType

    steps = [(e.step_key, e.step_failure_data.error) for e in result.all_events
             if e.is_step_failure and e.step_failure_data.error is not None]
    if steps:
        return steps
    return [("run", e.event_specific_data.error) for e in result.all_events
            if e.event_type == DagsterEventType.RUN_FAILURE
            and getattr(e.event_specific_data, "error", None) is not None]


# ---------------------------------------------------------------- commands


def cmd_generate(args: argparse.Namespace) -> int:
    from migrant_assets.synthetic import generate

    start = time.perf_counter()
    manifest = generate(args.preset, args.seed, Path(args.out), calls=args.calls,
                        proportions=args.proportions, progress=_progress, workers=args.workers,
                        null=args.null)
    size = ("" if args.calls is None else f", {args.calls:,} calls") + (", null" if args.null
                                                                        else "")
    print(f"synthetic city '{args.preset}' (seed {args.seed}{size}) written to "
          f"{manifest.parent} in {time.perf_counter() - start:.1f} s")
    return 0


def _effective_config(args: argparse.Namespace) -> Path:
    """The study config the demo runs, written to its workdir so the UI can open it too."""
    source = config_path(args.config)
    try:
        cfg = StudyConfig.load(source)
    except (ValidationError, yaml.YAMLError, OSError, InputError) as error:
        raise config_error(error, source) from error
    updates: dict = {}
    if args.workdir:
        updates["workdir"] = Path(args.workdir).resolve()
    if getattr(args, "early_warning", False):
        if cfg.engine.kind == "spark":
            raise ConfigError(EARLY_WARNING_ON_SPARK, "--early-warning",
                              EARLY_WARNING_ON_SPARK_FIX)
        updates["early_warning"] = cfg.early_warning.model_copy(update={"enabled": True})
    given = {k: v for k, v in (("preset", args.preset), ("seed", args.seed),
                               ("calls", args.calls)) if v is not None}
    if isinstance(cfg.source, SyntheticSource) and given:
        try:
            updates["source"] = SyntheticSource.model_validate({**cfg.source.model_dump(),
                                                                **given})
        except ValidationError as error:
            raise config_error(error, source) from error
    cfg = cfg.model_copy(update=updates)
    path = cfg.workdir / "study.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
    return path


def _home() -> Path:
    """The Dagster instance's folder: $DAGSTER_HOME, set here when unset. A checkout keeps its
    instance in <checkout>/.dagster_home; an installed package (no pyproject.toml next to it) in
    ./.dagster_home, never inside site-packages."""
    root = PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").exists() else Path.cwd()
    return Path(os.environ.setdefault("DAGSTER_HOME", str(root / ".dagster_home")))


def _dagster_home() -> None:
    home = _home()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():  # the packaged instance settings
        (home / "dagster.yaml").write_text(DEFAULT_DAGSTER_YAML.read_text(encoding="utf-8"))


class _Demo:
    """The main plan run by run, keeping going after a failure with what does not need it."""

    def __init__(self, verbose: bool) -> None:
        import dagster as dg

        from migrant_assets.defs import defs
        from migrant_assets.defs.ingest import GROUP as INGEST_GROUP
        from migrant_assets.defs.resources import DUCKDB_POOL
        from migrant_assets.lineage import BUILT_FROM_WHAT_EXISTS
        from migrant_assets.runs import instance_lock, quick_event_log, recover_dead_runs

        self.dg, self.defs, self.verbose = dg, defs, verbose
        #: run even when something they depend on failed: they say what is missing and why
        self.always_run = BUILT_FROM_WHAT_EXISTS
        self.ingest_group = INGEST_GROUP
        self.graph = defs.resolve_asset_graph()
        self.job = defs.resolve_implicit_global_asset_job_def()
        #: the DuckDB file the runs write (their tag, and the pool's wait message)
        self.database = StudyConfig.load().duckdb_path
        quick_event_log(Path(os.environ["DAGSTER_HOME"]))
        with instance_lock(Path(os.environ["DAGSTER_HOME"])):
            self.instance = dg.DagsterInstance.get()
        for message in recover_dead_runs(self.instance, DUCKDB_POOL):
            print(f"recovered: {message}", flush=True)
        # assets not materialized because a run failed, or that failed a blocking check
        self.lost: set = set()
        self.failed_runs: list[str] = []
        #: failed runs whose every error is an InputError (a file the mapping cannot read)
        self.input_failed_runs: list[str] = []
        self.evaluated, self.failed_checks, self.skipped_checks = 0, 0, 0
        # a check of an ingested table failed at ERROR -> what to check first
        self.input_checks: dict[str, str] = {}

    def _upstream(self, key) -> set:
        return self.dg.AssetSelection.assets(key).upstream().resolve(self.graph) - {key}

    def step(self, step) -> None:
        """Run ``step`` (a :class:`migrant_assets.runs.Step`) unless what it needs failed."""
        assets = set(step.keys)
        blocked = {k for k in assets if self._upstream(k) & self.lost
                   and k.to_user_string() not in self.always_run}
        if blocked:
            needs = sorted({u.to_user_string() for k in blocked for u in self._upstream(k)
                            & self.lost})
            names = sorted(k.to_user_string() for k in blocked)
            print(f"{step.name}: skipped {', '.join(names)} (needs {', '.join(needs)}, "
                  "which did not materialize or failed a blocking check)", flush=True)
            self.lost |= blocked
        runnable = assets - blocked
        if not runnable:
            return
        selection = sorted(runnable)
        name = step.name if runnable == assets else " + ".join(k.to_user_string()
                                                               for k in selection)
        for first, last in step.partition_runs():
            span = "" if first is None else f" [{first}]" if first == last else \
                f" [{first}..{last}]"
            result = self.run(f"{name}{span}", first, last, selection)
            if result.success:
                continue
            done = {e.asset_key for e in result.get_asset_materialization_events()}
            failed_steps = {name for name, _ in _run_errors(result)}
            retry = sorted(k for k in runnable - done if k.to_user_string() in self.always_run
                           and k.to_user_string() not in failed_steps)
            self.lost |= runnable - done - set(retry)
            for key in retry:  # skipped in the run because something upstream of it failed
                self.run(f"{name}{span} ({key.to_user_string()} alone)", first, last, [key])

    def run(self, name: str, first: str | None, last: str | None, selection):
        from migrant_assets.defs.resources import DUCKDB_POOL
        from migrant_assets.runs import kept_event_log_connections, process_tags, wait_for_pool

        wait_for_pool(self.instance, DUCKDB_POOL, lambda line: print(line, flush=True),
                      database=self.database)
        t = time.perf_counter()
        tags = process_tags(self.database)
        if first is not None and first != last:
            tags |= {"dagster/asset_partition_range_start": first,
                     "dagster/asset_partition_range_end": last}
        with kept_event_log_connections(self.instance), still_running(
                name, STILL_RUNNING_EVERY_S, lambda line: print(line, flush=True)):
            result = self.job.execute_in_process(
                run_config=QUIET, instance=self.instance, asset_selection=selection,
                partition_key=first if first == last else None, tags=tags,
                raise_on_error=False,
            )
        evaluations = result.get_asset_check_evaluations()
        not_judged = [e for e in evaluations if _not_judged(e) is not None]
        failed = [e for e in evaluations if not e.passed and e not in not_judged]
        # an asset that failed a blocking check stands as not materialized for what reads it
        blocking = sorted({(e.asset_key.to_user_string(), e.check_name) for e in failed
                           if e.blocking and e.severity.value == "ERROR"})
        self.lost |= {e.asset_key for e in failed if e.blocking and e.severity.value == "ERROR"}
        skipped = [(e.asset_key.to_user_string(), e.check_name, _not_judged(e))
                   for e in not_judged]
        evaluations = [e for e in evaluations if e not in not_judged]
        self.evaluated += len(evaluations)
        self.failed_checks += len(failed)
        self.skipped_checks += len(skipped)
        # a check fails, or has nothing to judge, for the same reason in many partitions of a
        # run: each distinct line once, with its count (Counter keeps the first-seen order)
        failures = Counter((e.asset_key, e.check_name, e.severity.value, _failure_hint(e))
                           for e in failed)
        for (key, check, severity, hint), _ in failures.items():
            if severity == "ERROR" and self.graph.get(key).group_name == self.ingest_group:
                self.input_checks.setdefault(f"{key.to_user_string()}.{check}", hint)
        print(f"{name}: {'ok' if result.success else 'FAILED'} in "
              f"{time.perf_counter() - t:.1f} s"
              + "".join(f"\n    check {key.to_user_string()}.{check} did not pass ({severity})"
                        f"{_times(n)}" + (f": check first {hint}" if hint else "")
                        # in the checks' order, not the order their steps happened to end
                        for (key, check, severity, hint), n in sorted(
                            failures.items(), key=lambda f: (f[0][0].to_user_string(),
                                                             *map(str, f[0][1:]))))
              + "".join(f"\n    check {asset}.{check} not evaluated (nothing to judge)"
                        f"{_times(n)}: {reason}"
                        for (asset, check, reason), n in sorted(Counter(skipped).items(),
                                                                key=lambda s: str(s[0]))),
              flush=True)
        if not result.success:
            self.failed_runs.append(name)
            explained = [(step_key, *(_blocking_failure(blocking, self.ingest_group, self.graph)
                                      if error.cls_name == "DagsterAssetCheckFailedError"
                                      else explain(error)), error)
                         for step_key, error in _run_errors(result)]
            if explained and all(is_input for _, _, is_input, _ in explained):
                self.input_failed_runs.append(name)
            for step_key, paragraph, is_input, error in explained:
                hint = "" if is_input else " Run with --verbose for the traceback."
                _error(f"  {step_key} failed: {_sentence(paragraph)}{hint}")
                if self.verbose:
                    _error(f"Traceback of {step_key} (Dagster's error chain):\n"
                           f"{error.to_string()}")
        return result


def _blocking_failure(blocking: list[tuple[str, str]], ingest_group: str,
                      graph) -> tuple[str, bool]:
    """The paragraph of a run stopped by failed blocking checks (Dagster's own message lists
    nothing): which checks, that what reads their assets is not run, and whether it is an input
    problem (a check of an ingested table)."""
    import dagster as dg

    named = ", ".join(f"{asset}.{check}" for asset, check in blocking) or "a blocking check"
    is_input = bool(blocking) and all(
        graph.get(dg.AssetKey.from_user_string(asset)).group_name == ingest_group
        for asset, _ in blocking)
    return (f"the blocking check {named} did not pass (its line above says what to check "
            "first), so what reads its asset is not run"), is_input


def _times(n: int) -> str:
    return f" in {n} partitions" if n > 1 else ""


def _failure_hint(evaluation) -> str:
    """What a failed check says to look at first: its ``check_first`` metadata (e.g. the top
    quarantine reason and its fix), else its ``reason``; empty when it has neither."""
    md = evaluation.metadata
    for key in ("check_first", "reason"):
        if md.get(key) is not None:
            return _no_raw_numbers(str(md[key].value), limit=800)  # a fix with its examples
    return ""


def _not_judged(evaluation) -> str | None:
    """The reason a check had nothing to judge (metadata ``judged: 0``), else None."""
    md = evaluation.metadata
    judged = md.get("judged")
    if judged is None or judged.value != 0:
        return None
    reason = md.get("reason")
    return str(reason.value) if reason is not None else "nothing to judge"


def _print_early_warning(cfg: StudyConfig) -> None:
    """The early-warning line (docs/early_warning.md): precision in the top 5% at k = 7 and
    k = 14 beside the leaving share, and the median lead time of flagged leavers."""
    from migrant_assets.db import connect
    from migrant_assets.early_warning import ensure_schema, headline, no_model_reason

    def show(x: float | None, spec: str = ".3f") -> str:
        return "n/a" if x is None else format(x, spec)

    if not cfg.early_warning.enabled:
        print("\nEarly warning: off (migrant-assets demo --early-warning, or early_warning."
              "enabled in the study config; docs/early_warning.md)")
        return
    if not cfg.duckdb_path.exists():
        return
    con = connect(cfg.duckdb_path)
    try:
        h = headline(con, cfg.early_warning.horizon_days)
        ensure_schema(con)
        reason = no_model_reason(con)
    finally:
        con.close()
    print("\nEarly warning (out-of-fold, docs/early_warning.md)")
    if all(v is None for k, v in h.items() if not k.startswith("k_")):
        print(f"  not available: {reason or 'no risk model could be evaluated'}")
        return
    print(f"  precision in the top 5%: k = {h['k_short']} {show(h['top5_k_short'])} (leaving "
          f"share {show(h['share_k_short'])}), k = {h['k_last']} {show(h['top5_k_last'])} "
          f"(leaving share {show(h['share_k_last'])})")
    print(f"  median lead time of flagged leavers: {show(h['lead'], '.1f')} days before "
          f"their last call (random flags: {show(h['random_lead'], '.1f')})")


def cmd_demo(args: argparse.Namespace) -> int:
    effective = _effective_config(args)
    os.environ["MIGRANT_ASSETS_CONFIG"] = str(effective)  # before the definitions load
    _dagster_home()
    cfg = StudyConfig.load(effective)

    from migrant_assets.contract import contract_for

    t0 = time.perf_counter()
    if isinstance(cfg.source, SyntheticSource):
        print(f"synthetic city '{cfg.source.preset}' (seed {cfg.source.seed}): "
              f"{cfg.synthetic_dir}", flush=True)
    from migrant_assets.defs.early_warning import GROUP as EARLY_WARNING_GROUP
    from migrant_assets.models.workers import kept as kept_workers
    from migrant_assets.runs import main_plan, workdir_lock

    with workdir_lock(cfg.workdir):  # a second process on this DuckDB file gets a clear error
        if not isinstance(cfg.source, SyntheticSource):
            contract_for(cfg)  # a bad mapping fails before any run
            _ = cfg.pseudonym_key  # and so does a missing or short key
        demo = _Demo(args.verbose)
        skipped = () if cfg.early_warning.enabled else (EARLY_WARNING_GROUP,)
        with kept_workers():  # the model assets run here one after another: one start
            for step in main_plan(demo.defs, skip_groups=skipped):
                demo.step(step)
    elapsed = f"{time.perf_counter() - t0:.0f} s"
    if demo.failed_runs:
        head = (f"\n{len(demo.failed_runs)} run(s) failed in {elapsed} "
                f"({', '.join(demo.failed_runs)}); what needs them was skipped, the rest ran")
    else:
        head = f"\nall assets materialized in {elapsed}"
    checks = (f"{demo.failed_checks} of {demo.evaluated} asset check evaluations did not pass "
              "(above)" if demo.failed_checks else
              f"every asset check passed ({demo.evaluated} evaluations)" if demo.evaluated else
              "no asset check was evaluated")
    if demo.skipped_checks:
        checks += f"; {demo.skipped_checks} not evaluated: nothing to judge (above)"
    print(f"{head}; {checks}\n", flush=True)
    from migrant_assets.summary import print_summary

    print_summary(cfg, effective)
    _print_early_warning(cfg)
    if demo.failed_runs:
        _error(f"demo finished with {len(demo.failed_runs)} failed run(s): see the paragraphs "
               "above" + ("" if args.verbose else " (--verbose shows the tracebacks)"))
        # every failure an input error (a file the mapping cannot read): the input is wrong
        return BAD_INPUT if demo.input_failed_runs == demo.failed_runs else FAILED_RUN
    if demo.input_checks:
        _error(f"demo finished, but {len(demo.input_checks)} check(s) of severity ERROR on the "
               "ingested tables did not pass: the outputs were written from input that failed "
               "them. Check first:\n"
               + "\n".join(f"  {check}: {hint or 'see its metadata in the UI'}"
                           for check, hint in demo.input_checks.items()))
        return FAILED_CHECK
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    """Free the `duckdb` pool slot of runs whose processes died (a `dagster asset materialize`
    or UI run killed): the next run waits for it otherwise. Only of an existing instance (its
    dagster.yaml or the default storage's history/): a mistyped DAGSTER_HOME would otherwise
    make an empty one and call its slot free."""
    home = _home()
    if not ((home / "dagster.yaml").is_file() or (home / "history").is_dir()):
        raise InputError(f"no Dagster instance is in {home}: no run to recover there",
                         "DAGSTER_HOME", "set DAGSTER_HOME to the folder the runs used (it holds "
                         "their dagster.yaml)")
    _dagster_home()
    import dagster as dg

    from migrant_assets.defs.resources import DUCKDB_POOL
    from migrant_assets.runs import instance_lock, recover_dead_runs

    with instance_lock(Path(os.environ["DAGSTER_HOME"])):
        instance = dg.DagsterInstance.get()
    messages = recover_dead_runs(instance, DUCKDB_POOL)
    for message in messages:
        print(f"recovered: {message}")
    held = sorted(instance.event_log_storage.get_concurrency_info(DUCKDB_POOL).active_run_ids)
    print(f"{len(messages)} run(s) recovered; the '{DUCKDB_POOL}' pool slot is "
          + (f"held by run {', '.join(held)}, whose process is alive" if held else "free"))
    return 0


def main(argv: list[str] | None = None) -> None:
    warnings.filterwarnings("ignore", message=".*(beta|preview).*", category=Warning)
    parser = argparse.ArgumentParser(prog="migrant-assets",
                                     description=" ".join(__doc__.split("\n\n")[0].split()))
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write a synthetic city (SPEC §7)")
    gen.add_argument("--preset", default="demo", choices=["tiny", "demo", "large", "paper"])
    gen.add_argument("--calls", type=int, help="the month's social calls; the population scales "
                     "with them from the preset's ratio (default: the preset's size)")
    gen.add_argument("--workers", type=int, help="processes building blocks of the city "
                     "(default: up to 2; the files are the same)")
    gen.add_argument("--seed", type=int, default=20160901)
    gen.add_argument("--proportions", default="preset", choices=["preset", "paper"])
    gen.add_argument("--out", required=True)
    gen.add_argument("--null", action="store_true", help="the null city: every studied group "
                     "draws from the same behaviour (docs/synthetic_city.md)")
    gen.set_defaults(func=cmd_generate)
    demo = sub.add_parser("demo", help="run the main job: every asset, every partition")
    demo.add_argument("--preset", choices=["tiny", "demo", "large", "paper"],
                      help="synthetic city preset (default: the study config's)")
    demo.add_argument("--calls", type=int, help="scale the synthetic city to this many social "
                      "calls in the month (default: the config's, else the preset's size)")
    demo.add_argument("--seed", type=int, help="synthetic city seed (default: the config's)")
    demo.add_argument("--workdir", help="where the city, DuckDB file and outputs go")
    demo.add_argument("--config", help="study config (default: config/study.yaml)")
    demo.add_argument("--early-warning", action="store_true",
                      help="also run the early-warning assets (docs/early_warning.md; slower)")
    demo.set_defaults(func=cmd_demo)
    recover = sub.add_parser(
        "recover", help="free the DuckDB pool slot of runs whose process died (a killed "
        "`dagster asset materialize` or UI run); migrant-assets demo does it by itself")
    recover.set_defaults(func=cmd_recover)
    for command in (gen, demo, recover):
        command.add_argument("--verbose", action="store_true",
                             help="print the full traceback of a failure")
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except InputError as error:  # the study config or the mapping, before any run
        _error(f"{args.command} stopped: {error.paragraph()}")
        status = BAD_INPUT
        if args.verbose:
            traceback.print_exception(error)
    except Exception as error:  # noqa: BLE001 -- one paragraph; the traceback with --verbose
        _error(f"{args.command} stopped: "
               f"{_sentence(f'{type(error).__name__}: {_no_raw_numbers(str(error))}')} "
               "Run with --verbose for the traceback.")
        status = FAILED_RUN
        if args.verbose:
            traceback.print_exception(error)
    if status:
        sys.exit(status)


if __name__ == "__main__":
    main()

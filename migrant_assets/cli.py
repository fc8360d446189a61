"""Command line: `migrant-assets generate` writes a synthetic city; `migrant-assets demo` is the
main job — it materializes every asset for every partition and prints a summary."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

import yaml

from migrant_assets.config import PROJECT_ROOT, StudyConfig, SyntheticSource

#: Dagster's per-event console log is for the UI; the demo prints one line per run.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _progress(message: str) -> None:
    print(f"  {message}", flush=True)


def cmd_generate(args: argparse.Namespace) -> None:
    from migrant_assets.synthetic import generate

    start = time.perf_counter()
    manifest = generate(args.preset, args.seed, Path(args.out), proportions=args.proportions,
                        progress=_progress)
    print(f"synthetic city '{args.preset}' (seed {args.seed}) written to {manifest.parent} "
          f"in {time.perf_counter() - start:.1f} s")


def _effective_config(args: argparse.Namespace) -> Path:
    """The study config the demo runs, written to its workdir so the UI can open it too."""
    cfg = StudyConfig.load(args.config)
    updates: dict = {}
    if args.workdir:
        updates["workdir"] = Path(args.workdir).resolve()
    if isinstance(cfg.source, SyntheticSource) and (args.preset or args.seed is not None):
        updates["source"] = cfg.source.model_copy(update={
            k: v for k, v in (("preset", args.preset), ("seed", args.seed)) if v is not None})
    cfg = cfg.model_copy(update=updates)
    path = cfg.workdir / "study.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
    return path


def _dagster_home() -> None:
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")


def cmd_demo(args: argparse.Namespace) -> None:
    config_path = _effective_config(args)
    os.environ["MIGRANT_ASSETS_CONFIG"] = str(config_path)  # before the definitions load
    _dagster_home()
    cfg = StudyConfig.load(config_path)

    import dagster as dg

    from migrant_assets.contract import contract_for
    from migrant_assets.defs import defs
    from migrant_assets.defs.jobs import MAIN_PLAN

    t0 = time.perf_counter()
    if isinstance(cfg.source, SyntheticSource):
        print(f"synthetic city '{cfg.source.preset}' (seed {cfg.source.seed}): "
              f"{cfg.synthetic_dir}", flush=True)
    contract_for(cfg, generate_missing=True, progress=_progress)  # fails early on a bad mapping
    instance = dg.DagsterInstance.get()
    evaluated, failed_checks = 0, []
    for step in MAIN_PLAN:
        job = defs.resolve_job_def(step.job.name)
        keys = job.partitions_def.get_partition_keys() if step.partitioned else [None]
        runs = [(keys[0], keys[-1])] if step.single_run else [(k, k) for k in keys]
        for first, last in runs:
            t = time.perf_counter()
            tags = {}
            if first is not None and first != last:
                tags = {"dagster/asset_partition_range_start": first,
                        "dagster/asset_partition_range_end": last}
            result = job.execute_in_process(
                run_config=QUIET, instance=instance,
                partition_key=first if first == last else None, tags=tags, raise_on_error=False,
            )
            span = "" if first is None else f" [{first}]" if first == last else \
                f" [{first}..{last}]"
            evaluations = result.get_asset_check_evaluations()
            failed = [e for e in evaluations if not e.passed]
            evaluated += len(evaluations)
            failed_checks += failed
            print(f"{step.job.name}{span}: {'ok' if result.success else 'FAILED'} in "
                  f"{time.perf_counter() - t:.1f} s"
                  + "".join(f"\n    check {e.asset_key.to_user_string()}.{e.check_name} did "
                            f"not pass ({e.severity.value})" for e in failed), flush=True)
            if not result.success:
                for event in result.all_events:
                    if event.is_failure and event.event_specific_data is not None:
                        err = getattr(event.event_specific_data, "error", None)
                        if err is not None:
                            print(err.to_string(), file=sys.stderr)
                sys.exit(f"demo stopped: run of {step.job.name} failed ({result.run_id})")
    print(f"\nall assets materialized in {time.perf_counter() - t0:.0f} s; "
          + (f"{len(failed_checks)} of {evaluated} asset check evaluations did not pass (above)"
             if failed_checks else f"every asset check passed ({evaluated} evaluations)") + "\n")
    from migrant_assets.summary import print_summary

    print_summary(cfg, config_path)


def main(argv: list[str] | None = None) -> None:
    warnings.filterwarnings("ignore", message=".*(beta|preview).*", category=Warning)
    parser = argparse.ArgumentParser(prog="migrant-assets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write a synthetic city (SPEC §7)")
    gen.add_argument("--preset", default="demo", choices=["tiny", "demo", "large"])
    gen.add_argument("--seed", type=int, default=20160901)
    gen.add_argument("--proportions", default="preset", choices=["preset", "paper"])
    gen.add_argument("--out", required=True)
    gen.set_defaults(func=cmd_generate)
    demo = sub.add_parser("demo", help="run the main job: every asset, every partition")
    demo.add_argument("--preset", choices=["tiny", "demo", "large"],
                      help="synthetic city preset (default: the study config's)")
    demo.add_argument("--seed", type=int, help="synthetic city seed (default: the config's)")
    demo.add_argument("--workdir", help="where the city, DuckDB file and outputs go")
    demo.add_argument("--config", help="study config (default: config/study.yaml)")
    demo.set_defaults(func=cmd_demo)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()

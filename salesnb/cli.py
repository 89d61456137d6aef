"""The command line: parse arguments, call one library function, turn errors into exit codes.

Exit codes: 0 success; 1 bad data or params (one message, no traceback); 2 usage;
3 a batch finished with some reports failed.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import SalesnbError


def _positive_int(what: str):
    """An argparse type: a whole number of at least 1 (``--jobs 0`` is a usage error, exit 2)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a whole number, not {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{what} must be at least 1, not {value}")
        return value
    parse.__name__ = what
    return parse


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="salesnb", description="Sales-performance reports from sales transactions.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("init", help="guess a params file from a data file's columns")
    s.add_argument("datafile")
    s.add_argument("-o", "--output", help="params file to write (default params/NAME.yaml)")
    s.add_argument("--force", action="store_true", help="overwrite an existing params file")

    s = sub.add_parser("validate", help="data-quality report; exit 1 on fatal problems")
    s.add_argument("params")
    s.add_argument("--json", action="store_true", help="print the report as JSON")

    s = sub.add_parser("findings", help="every section's findings as JSON, no notebooks")
    s.add_argument("params")
    s.add_argument("--period")
    s.add_argument("-o", "--output")

    for name, helptext in (("run", "one report"), ("batch", "one report per period (and dimension value)")):
        s = sub.add_parser(name, help=helptext)
        s.add_argument("params")
        if name == "run":
            s.add_argument("--period")
            s.add_argument("--open", action="store_true", help="open the report in a browser")
        else:
            s.add_argument("--periods", required=True, help="a range such as 2023Q3..2024Q3")
            s.add_argument("--by", help="also one report per value of this dimension")
            s.add_argument("--jobs", type=_positive_int("--jobs"), default=2,
                           help="reports produced at a time (default 2)")
        s.add_argument("--out", default="reports")
        s.add_argument("--pdf", action="store_true", help="also write report.pdf (needs Chromium)")
        s.add_argument("--timeout", type=_positive_int("--timeout"), default=1800, help="seconds a notebook cell may run before the report fails (default 1800)")

    s = sub.add_parser("sample", help="write the synthetic sample data set")
    s.add_argument("out")
    s.add_argument("--rows", type=int, default=200_000)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--shape", choices=("sample", "typed", "typed-nonatomic"), default="sample",
                   help="sample (default): the kit's own; typed: integer ids, dates, ~25 orders per customer, "
                        "2 lines per order; typed-nonatomic: typed with 0.1%% of orders over two days and 0.1%% "
                        "with two customers")
    return p


def cmd_init(args) -> int:
    from .data import _source_files
    from .guess import params_text, read_column_names, suggested_name
    data = Path(args.datafile)
    _source_files(str(data))
    names = read_column_names(data)
    out = Path(args.output) if args.output else Path("params") / f"{suggested_name(data)}.yaml"
    if out.exists() and not args.force:
        raise SalesnbError(f"{str(out)!r} already exists.", hint="pass --force to overwrite it, or -o another file")
    if out.is_dir():
        raise SalesnbError(f"{str(out)!r} is a folder.", hint="give -o a file name such as params/acme.yaml")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(params_text(data, out, names), encoding="utf-8")
    except OSError as exc:
        raise SalesnbError(f"Cannot write {str(out)!r}: {exc.strerror or exc}.",
                           hint="choose another -o path, in a folder you can write to") from None
    print(f"Wrote {out} — check the guessed columns, then: salesnb validate {out}")
    return 0


def cmd_validate(args) -> int:
    from .config import load_config
    from .data import check_data
    from .render.quality import render_quality
    config = load_config(args.params)
    quality = check_data(config)
    if args.json:
        print(json.dumps(quality.to_dict(), indent=2, default=str))
    else:
        print(render_quality(quality, config))
    return 0


def cmd_findings(args) -> int:
    from .config import load_config
    from .data import load_data
    from .findings import dumps
    from .report.run import check_unchanged, findings_of
    config = load_config(args.params)
    print(f"loading {config.source or 'query'}", file=sys.stderr)
    with load_data(config) as dataset:
        findings = findings_of(dataset, args.period, progress=lambda m: print(m, file=sys.stderr))
        check_unchanged(dataset.source_state)   # a file overwritten meanwhile: no mixed numbers
    text = dumps(findings.data)
    if args.output:
        from .report.publish import write_atomic
        write_atomic(Path(args.output), text)
        print(f"Wrote {args.output}", file=sys.stderr)
    else:
        print(text)
    return 0


def cmd_run(args) -> int:
    from .report import run_report
    path = run_report(args.params, period=args.period, out=args.out, pdf=args.pdf, timeout=args.timeout,
                      progress=lambda m: print(m, file=sys.stderr))
    print(path)
    if args.open:
        import webbrowser
        webbrowser.open(Path(path).resolve().as_uri())
    return 0


def cmd_batch(args) -> int:
    from .report import run_batch
    result = run_batch(args.params, periods=args.periods, by=args.by, jobs=args.jobs, out=args.out,
                       pdf=args.pdf, timeout=args.timeout, progress=lambda m: print(m, file=sys.stderr))
    print(result.index_path)
    for failure in result.failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 3 if result.failures else 0


def cmd_sample(args) -> int:
    from .data.sample import write_sample
    if args.rows < 1:
        raise SalesnbError(f"--rows must be at least 1, not {args.rows}.")
    out = Path(args.out)
    if out.is_dir():
        raise SalesnbError(f"{str(out)!r} is a folder.", hint="give a file name such as data/sample.parquet")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if args.shape == "sample":
            summary = write_sample(out, rows=args.rows, seed=args.seed)
        else:
            from .data.sample_shapes import write_shape
            summary = write_shape(out, args.shape, rows=args.rows, seed=args.seed)
    except OSError as exc:
        raise SalesnbError(f"Cannot write {str(out)!r}: {exc.strerror or exc}.",
                           hint="choose a path in a folder you can write to, on a disk with free space") from None
    print(f"Wrote {summary['rows']:,} rows to {args.out} ({summary['first_date']} .. {summary['last_date']})")
    return 0


def _on_sigint(signum, frame):
    import logging

    from .errors import mark_interrupted
    mark_interrupted()
    # the notebooks being stopped would log "Kernel died …": the one message is ours
    logging.disable(logging.CRITICAL)
    raise KeyboardInterrupt


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    handler = globals()[f"cmd_{args.command}"]
    import signal
    import threading

    from .errors import clear_interrupted, interrupted, os_error_line
    clear_interrupted()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("salesnb: interrupted", file=sys.stderr)
        return 130
    except SalesnbError as exc:
        if interrupted():   # e.g. DuckDB's "Query interrupted" turned into a data error
            print("salesnb: interrupted", file=sys.stderr)
            return 130
        print(f"salesnb: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # the reader of our output went away (salesnb validate … | head): stop quietly
        import os
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except OSError as exc:
        if interrupted():
            print("salesnb: interrupted", file=sys.stderr)
            return 130
        # a read-only or full folder, a file where a folder should be: one line, no traceback
        print(f"salesnb: error: {os_error_line(exc)}", file=sys.stderr)
        return 1
    except Exception:
        if interrupted():   # whatever the interrupt broke on its way (a DuckDB RuntimeError …)
            print("salesnb: interrupted", file=sys.stderr)
            return 130
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if interrupted() and argv is not None:   # called in-process: logging as it was
            import logging
            logging.disable(logging.NOTSET)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

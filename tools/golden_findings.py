"""Write or check golden findings: the findings.json and tables of the real data sets and the sample.

A refactoring must not change a single byte of what a report says. Before it, write the goldens;
after it, check them (same machine, same venv: the method section names package versions):

    .venv/bin/python tools/golden_findings.py write /tmp/golden
    .venv/bin/python tools/golden_findings.py check /tmp/golden

The real data sets are read from ../shared/data (tests/params/*.yaml); cases whose data is
absent are skipped with a note.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: (params file relative to the repository, periods)
CASES = [
    ("params/sample.yaml", ["2024Q3", "2024", "2024-07"]),
    ("tests/params/superstore.yaml", ["2017Q4", "2017", "2016Q2"]),
    ("tests/params/online_retail.yaml", ["2011Q4", "2011Q2"]),
    ("tests/params/online_retail_ii.yaml", ["2010Q3"]),
    ("tests/params/cdnow.yaml", ["1998Q2", "1997Q4"]),
    ("tests/params/crm_pipeline.yaml", ["2017Q2"]),
]


def _render(findings) -> dict[str, bytes]:
    """The files that stand for one period's findings: the JSON and each table as CSV."""
    from salesnb.findings import dumps
    files = {"findings.json": dumps(findings.data).encode("utf-8")}
    for name, frame in sorted(findings.tables.items()):
        files[f"tables/{name}.csv"] = frame.to_csv(index=False, float_format="%.10g").encode("utf-8")
    return files


def _cases():
    from salesnb.config import load_config
    from salesnb.data import load_data
    from salesnb.findings import build_findings
    for params, periods in CASES:
        path = ROOT / params
        try:
            config = load_config(path)
        except Exception as exc:  # the shared data may be absent
            print(f"skip {params}: {exc}", file=sys.stderr)
            continue
        dataset = load_data(config)
        try:
            for period in periods:
                yield f"{config.name}_{period}", _render(build_findings(config, period, dataset=dataset))
        finally:
            dataset.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["write", "check"])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    differences = 0
    for case, files in _cases():
        for name, content in files.items():
            target = args.folder / case / name
            if args.mode == "write":
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            elif not target.exists() or target.read_bytes() != content:
                differences += 1
                print(f"DIFFERENT {case}/{name}")
        if args.mode == "write":
            print(f"wrote {case}")
    if args.mode == "check":
        print("identical" if not differences else f"{differences} file(s) differ")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())

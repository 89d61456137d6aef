"""Reading a params file safely: its size, the YAML it holds (a key given twice is an error) and
how far that YAML expands -- before :func:`salesnb.config.config_from_dict` checks its keys.
Every problem is a :class:`ConfigError` that names the file (and the line) and says what to do.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from .errors import ConfigError


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key given twice in one mapping is an error (plain
    YAML keeps the last one silently: two ``columns:`` blocks would lose the first)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} is given twice (first on line {seen[key] + 1})",
                        key_node.start_mark)
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


# A params file is a few dozen lines: these limits stop a hostile or broken one (a "billion
# laughs" of YAML aliases, 20,000 nested brackets, a 100 MB file) before it can exhaust the machine.
MAX_PARAMS_BYTES = 1_000_000
MAX_YAML_NODES = 100_000     # values after alias expansion
MAX_YAML_DEPTH = 50          # nested lists / mappings


def _check_yaml_size(text: str, where: str) -> None:
    """Walk the YAML event stream (no recursion, nothing expanded) and count the values the
    document would hold once its aliases are expanded, and how deep it nests."""
    stack: list[int] = []           # values counted in each open collection
    anchors: dict[str, int] = {}    # anchor → expanded size of what it names
    open_anchor: list[str | None] = []
    total = 0

    def add(n: int) -> None:
        nonlocal total
        total += n
        if stack:
            stack[-1] += n
        if total > MAX_YAML_NODES:
            raise ConfigError(f"Params file {where} expands to more than {MAX_YAML_NODES:,} values "
                              "(through YAML aliases such as *name).",
                              hint="a params file needs a few dozen values: remove the aliases") from None

    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            stack.append(1)
            open_anchor.append(event.anchor)
            if len(stack) > MAX_YAML_DEPTH:
                mark = event.start_mark
                raise ConfigError(f"Params file {where} nests lists or mappings more than {MAX_YAML_DEPTH} "
                                  f"deep (line {mark.line + 1}).",
                                  hint="a params file nests two or three levels: fix the brackets there")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            size = stack.pop()
            anchor = open_anchor.pop()
            total -= size  # counted again as a whole below
            if anchor is not None:
                anchors[anchor] = size
            add(size)
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                anchors[event.anchor] = 1
            add(1)
        elif isinstance(event, yaml.AliasEvent):
            add(anchors.get(event.anchor, 1))


def read_params(p: Path):
    """The parsed YAML of the params file ``p`` (None when it is empty), within the limits above."""
    try:
        size = p.stat().st_size
        if size > MAX_PARAMS_BYTES:
            raise ConfigError(f"Params file {str(p)!r} is {size:,} bytes; a params file is at most "
                              f"{MAX_PARAMS_BYTES:,} bytes.",
                              hint="check that this is the params file (a YAML file of a few dozen lines)")
        with open(p, "rb") as fh:   # read no more than the limit, even if the file grows meanwhile
            raw = fh.read(MAX_PARAMS_BYTES + 1)
        if len(raw) > MAX_PARAMS_BYTES:
            raise ConfigError(f"Params file {str(p)!r} is more than {MAX_PARAMS_BYTES:,} bytes.",
                              hint="check that this is the params file (a YAML file of a few dozen lines)")
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"Params file {str(p)!r} is not UTF-8 text.", hint="save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"Params file {str(p)!r} cannot be read: {exc.strerror or exc}.",
                          hint="check that you may read it") from None
    try:
        _check_yaml_size(text, repr(str(p)))
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:   # deep nesting inside one flow value: not caught by the depth limit
        raise ConfigError(f"Params file {str(p)!r} nests too deep to read.",
                          hint="a params file nests two or three levels: fix the brackets") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"Params file {str(p)!r} is not valid YAML{where}: {problem}.",
                          hint="fix the YAML syntax there (indentation, a missing ':' or quote)") from None

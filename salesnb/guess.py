"""``salesnb init``: guess a params file from a data file's column names (and a quick look at its data).

Every value written into the params file goes through :func:`yaml_scalar` (YAML's own quoting) and
every comment through :func:`comment_text` (no line break survives), so a column or file name
can never add a key of its own (a column named ``x\\nperiod: 1999Q1`` stays one column name).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from pathlib import Path

import yaml

from .config import CANONICAL_COLUMNS

# Normalised column names (lower case, no spaces/underscores) each role is known by, best first.
ALIASES = {
    "order_id": ["orderid", "invoiceno", "invoice", "invoicenumber", "invoiceid", "ordernumber", "orderno",
                 "transactionid", "opportunityid", "dealid", "salesorder", "receiptid", "order"],
    "order_date": ["orderdate", "invoicedate", "date", "transactiondate", "closedate", "saledate", "salesdate",
                   "purchasedate", "orderdatetime", "createdat", "timestamp", "datetime"],
    "customer_id": ["customerid", "customer", "clientid", "accountid", "account", "customerno", "customernumber",
                    "custid", "buyerid", "userid"],
    "revenue": ["sales", "revenue", "amount", "netsales", "totalsales", "salesamount", "linetotal", "total",
                "closevalue", "dollarvalue", "netamount", "value", "totalprice", "grossrevenue"],
    "quantity": ["quantity", "qty", "units", "numberofcds", "unitssold", "quantityordered", "count"],
    "unit_price": ["unitprice", "price", "priceeach", "listprice", "salesprice", "rate"],
    "region": ["region", "country", "territory", "area", "market", "regionaloffice", "state"],
    "segment": ["segment", "customersegment", "customertype", "sector", "tier"],
    "category": ["category", "productcategory", "productline", "department", "series"],
    # names first, codes after: a description is what a reader recognises ("WHITE HANGING HEART
    # T-LIGHT HOLDER", not "85123A"), so a code is taken only when no name column sits beside it
    "product": ["productname", "product", "description", "itemname", "itemdescription", "productdescription",
                "productdesc", "stockcode", "sku", "item", "productid", "productcode", "itemcode"],
    "sales_rep": ["salesrep", "salesagent", "salesperson", "owner", "rep", "agent", "accountmanager", "seller"],
    # only names that say "channel": a shipping mode or a lead source is not a sales channel
    "channel": ["channel", "saleschannel", "orderchannel", "distributionchannel", "marketingchannel"],
    # a line's money amounts, not per-unit ones ("unit cost" is not a line's cost) nor a margin %
    "profit": ["profit", "grossprofit", "netprofit", "lineprofit", "profitamount"],
    "cost": ["cost", "cogs", "costofgoodssold", "costofsales", "totalcost", "linecost", "costamount"],
    "discount": ["discount", "discountrate", "discountpct", "discountpercent", "discountpercentage"],
}
#: what an optional money role adds, written beside it when it is not guessed
OPTIONAL_NOTES = {
    "profit": "a line's profit adds profit and margin to the report",
    "cost": "a line's cost, when there is no profit column (profit = revenue - cost)",
    "discount": "a line's discount rate (0.2 = 20%) adds the discount bands",
}
# kind: pipeline (SPEC 10): a file with a stage column is one row per deal
STAGE_ALIASES = ["dealstage", "stage", "opportunitystage", "salesstage", "pipelinestage", "stagename"]
PIPELINE_ALIASES = {
    "deal_id": ["opportunityid", "dealid", "opportunity", "deal", "id"],
    "created_date": ["engagedate", "createddate", "createdate", "created", "opendate", "createdat", "startdate"],
    "close_date": ["closedate", "closingdate", "closeddate", "closed", "wondate", "enddate"],
    "value": ["closevalue", "dealvalue", "amount", "value", "dealamount", "opportunityamount", "revenue"],
    "sales_rep": ALIASES["sales_rep"], "account": ["account", "accountname", "company", "customer", "client"],
    "product": ALIASES["product"], "region": ALIASES["region"], "team": ["team", "salesteam", "manager"],
}
_WON, _LOST = re.compile(r"\bwon\b|\bwin\b", re.I), re.compile(r"\blost\b|\bloss\b", re.I)
CURRENCY_ALIASES = ["currency", "currencycode", "curr", "ccy", "currencyiso", "isocurrency"]
_ISO = re.compile(r"^[A-Za-z]{3}$")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def guess_columns(names: list[str]) -> dict[str, str]:
    """Map canonical roles to the given column names, best alias first, each column used once.

    Parameters
    ----------
    names : list of str
        The data file's column names, as read.

    Returns
    -------
    dict
        role (``order_id``, ``revenue``, …) → column name, for the roles that could be guessed.

    Examples
    --------
    >>> guess_columns(["InvoiceNo", "StockCode", "Description", "InvoiceDate", "Ship Mode"])["product"]
    'Description'
    """
    normed = {n: _norm(n) for n in names}
    chosen: dict[str, str] = {}
    used: set[str] = set()
    for role in CANONICAL_COLUMNS:
        for alias in ALIASES[role]:
            hit = next((n for n, k in normed.items() if k == alias and n not in used), None)
            if hit:
                chosen[role] = hit
                used.add(hit)
                break
    return chosen


def stage_column(names: list[str]) -> str | None:
    """The deal-stage column of a CRM export (``deal_stage``, ``Stage`` …), if any."""
    normed = {n: _norm(n) for n in names}
    return next((n for alias in STAGE_ALIASES for n, k in normed.items() if k == alias), None)


def guess_pipeline_columns(names: list[str], stage: str) -> dict[str, str]:
    """Pipeline roles → column names (the stage given), best alias first, each column used once."""
    normed = {n: _norm(n) for n in names}
    chosen, used = {"stage": stage}, {stage}
    for role, aliases in PIPELINE_ALIASES.items():
        hit = next((n for alias in aliases for n, k in normed.items() if k == alias and n not in used), None)
        if hit:
            chosen[role] = hit
            used.add(hit)
    return chosen


def read_stages(path: Path, column: str) -> tuple[list[str], list[str], list[str]]:
    """(won, lost, other) stage values of ``column``: won / lost by the words in them."""
    from .data import quote_ident
    with _raw_view(path) as db:
        values = [r[0] for r in db.execute(f"SELECT DISTINCT trim(CAST({quote_ident(column)} AS VARCHAR)) AS v "
                                           "FROM raw WHERE v IS NOT NULL AND v <> '' ORDER BY v LIMIT 200").fetchall()]
    won = [v for v in values if _WON.search(v)]
    lost = [v for v in values if _LOST.search(v) and v not in won]
    return won, lost, [v for v in values if v not in won and v not in lost]


def pipeline_params_text(datafile: Path, out: Path, names: list[str], stage: str, *, probe: bool = True) -> str:
    """The params text for a CRM export: ``kind: pipeline`` (SPEC 10)."""
    from .config_pipeline import PIPELINE_COLUMNS
    cols = guess_pipeline_columns(names, stage)
    name = suggested_name(datafile)
    lines = ["# salesnb params file written by `salesnb init`: a pipeline (one row per deal, found by the stage "
             "column); check every guess below.",
             f"# Columns found in {comment_text(Path(datafile).name)}: {', '.join(comment_text(n) for n in names)}",
             f"name: {name}", f"title: {yaml_scalar(suggested_title(datafile))}", "kind: pipeline",
             f"source: {yaml_scalar(_source_for(datafile, out))}", "columns:"]
    for role in PIPELINE_COLUMNS:
        lines.append(f"  {role}: {yaml_scalar(cols[role])}" if role in cols
                     else f"  # {role}:  (not guessed; map it to your column if you have one)")
    won, lost, other = read_stages(Path(datafile), stage) if probe else ([], [], [])
    flow = lambda vs: "[" + ", ".join(yaml_scalar(v) for v in vs) + "]"  # noqa: E731
    if won and lost:
        lines.append(f"stages: {{won: {flow(won)}, lost: {flow(lost)}}}   # every other stage is open"
                     + (f": {comment_text(', '.join(other))}" if other else ""))
    else:
        lines.append(f"stages: {{won: [Won], lost: [Lost]}}   # TODO: not guessed; the stages found: "
                     f"{comment_text(', '.join(won + lost + other)) or 'none read'}")
    if "close_date" not in cols:
        lines.append("# TODO: close_date is required and could not be guessed.")
    if "value" not in cols:
        lines.append("# A deal value (value:) can come from a query: that joins a price list; see "
                     "params/crm_pipeline.yaml.")
    lines += ["date_format: auto", _currency_line(datafile, names, probe), "fiscal_year_start: 1"]
    period, why = (None, "not read")
    if probe and "close_date" in cols and won and lost:
        period, why = guess_period({"name": name, "kind": "pipeline", "source": str(Path(os.path.abspath(datafile))),
                                    "columns": cols, "stages": {"won": won, "lost": lost}})
    lines.append(f"period: {period}          # the default period of `salesnb run`: {comment_text(why)}" if period
                 else f"# period: 2024Q3         # not guessed: {comment_text(why)}")
    return "\n".join(lines + [""])


def currency_column(names: list[str]) -> str | None:
    """The column that names each row's currency (``Currency``, ``currency_code`` …), if any."""
    normed = {n: _norm(n) for n in names}
    for alias in CURRENCY_ALIASES:
        hit = next((n for n, k in normed.items() if k == alias), None)
        if hit:
            return hit
    return None


@contextlib.contextmanager
def _raw_view(path: Path):
    """A DuckDB connection with the view ``raw`` over the data file (read as ``salesnb`` reads it)."""
    from .config import config_from_dict
    from .data import _Reader
    import duckdb
    import shutil
    import tempfile
    cfg = config_from_dict({"name": "probe", "source": str(path),
                            "columns": {"order_id": "x", "order_date": "y", "revenue": "z"}})
    tmp = tempfile.mkdtemp(prefix="salesnb-init-")
    db = duckdb.connect()
    try:
        reader = _Reader(cfg, db, tmp)
        reader.register()
        yield db
    finally:
        db.close()
        shutil.rmtree(tmp, ignore_errors=True)


def read_column_names(path: Path) -> list[str]:
    """The data file's column names, in file order."""
    with _raw_view(path) as db:
        return [r[0] for r in db.execute("DESCRIBE raw").fetchall()]


def read_currency(path: Path, column: str) -> str | None:
    """The most frequent value of ``column`` when it is an ISO 4217-like code, else None."""
    from .data import quote_ident
    try:
        with _raw_view(path) as db:
            row = db.execute(f"SELECT upper(trim(CAST({quote_ident(column)} AS VARCHAR))) AS c, count(*) AS n "
                             f"FROM raw WHERE {quote_ident(column)} IS NOT NULL GROUP BY 1 "
                             "ORDER BY n DESC, c LIMIT 1").fetchone()
    except Exception:  # noqa: BLE001 - a guess only: the user is told to fill it in
        return None
    return row[0] if row and row[0] and _ISO.match(row[0]) else None


def suggested_name(datafile: Path) -> str:
    """A valid params ``name`` from a data file's name: ``Sample - Superstore.csv`` → ``sample-superstore``."""
    import unicodedata
    stem = _stem(datafile)
    stem = "".join(ch for ch in unicodedata.normalize("NFKD", stem) if not unicodedata.combining(ch))
    return re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9_-]+", "-", stem)).strip("-_").lower() or "sales"


def _stem(datafile: Path) -> str:
    datafile = Path(datafile)
    if any(ch in datafile.name for ch in "*?["):  # a glob: name it after its folder
        return datafile.parent.name
    return Path(datafile.name.removesuffix(".gz")).stem


def suggested_title(datafile: Path) -> str:
    """A readable report title from a data file's name.

    ``online_retail_II_Year_2009-2010.parquet`` → ``Online Retail II Year 2009-2010``;
    ``Sample - Superstore.csv`` stays ``Sample - Superstore``.
    """
    words = re.sub(r"[_\s]+", " ", _stem(datafile)).split()
    words = [w[:1].upper() + w[1:] if w.islower() else w for w in words]
    return comment_text(" ".join(words)) or "Sales"


def last_complete_quarter(first: dt.date, last: dt.date, partial_months=()) -> str | None:
    """The latest calendar quarter whose every month the data covers (an edge month counts only
    when it is not partial), or None when the data holds no complete quarter."""
    from .periods import month_index, month_label, month_start
    partial = set(partial_months)
    lo = month_index(first) + (1 if month_label(month_index(first)) in partial else 0)
    hi = month_index(last) - (1 if month_label(month_index(last)) in partial else 0)
    q_end = hi - (hi % 3) + 2          # last month of the quarter that holds month ``hi``
    if q_end > hi:
        q_end -= 3
    q_start = q_end - 2
    if q_start < lo:
        return None
    start = month_start(q_start)
    return f"{start.year}Q{(start.month - 1) // 3 + 1}"


def guess_period(params: dict) -> tuple[str | None, str]:
    """Load the data as the guessed params read it; return (period, why) — the last complete quarter,
    or None and the reason it could not be guessed."""
    from .config import config_from_dict
    from .data import check_data
    from .errors import SalesnbError
    try:
        quality = check_data(config_from_dict(params))
    except SalesnbError as exc:
        return None, f"the data could not be read with these guesses ({comment_text(exc.message)[:200]})"
    except Exception as exc:  # noqa: BLE001 - a guess only
        return None, f"the data could not be read with these guesses ({type(exc).__name__})"
    if not quality.first_date or not quality.last_date:
        return None, "the data has no dates"
    first, last = dt.date.fromisoformat(quality.first_date), dt.date.fromisoformat(quality.last_date)
    period = last_complete_quarter(first, last, quality.partial_months)
    if period is None:
        return None, f"the data ({first} .. {last}) holds no complete quarter"
    return period, f"the last complete quarter of the data ({first} .. {last})"


# --------------------------------------------------------------------------- writing YAML safely

def comment_text(text) -> str:
    """``text`` made safe for one YAML comment line: every character that is not printable (line
    breaks of any kind, tabs, control characters) is written as its escape (``\\n``)."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in str(text))


def yaml_scalar(value: str) -> str:
    """One YAML scalar that reads back as exactly ``value``, on one line: plain when that is
    safe, else double-quoted with escapes (YAML's own quoting, never hand-made)."""
    value = str(value)
    for style in (None, '"'):
        text = yaml.safe_dump([value], default_style=style, allow_unicode=True, width=float("inf"))
        text = text.removesuffix("\n")
        if text.startswith("- ") and "\n" not in text:
            scalar = text[2:]
            try:
                if yaml.safe_load(f"k: {scalar}\n") == {"k": value}:
                    return scalar
            except yaml.YAMLError:
                pass
    # unreachable for str values: a double-quoted scalar can hold any text
    raise ValueError(f"cannot write {value!r} as one YAML scalar")


def _source_for(datafile: Path, out: Path) -> str:
    """The data file's path as written in the params: relative to the params file when the data sits
    in the same project (the params folder's parent), absolute otherwise."""
    data = Path(datafile).expanduser()
    data = Path(os.path.abspath(data))
    out_dir = Path(os.path.abspath(out)).parent
    project = out_dir.parent if out_dir.name == "params" else out_dir
    try:
        data.relative_to(project)
    except ValueError:
        return str(data)
    return os.path.relpath(data, out_dir)


def _currency_line(datafile: Path, names: list[str], probe: bool) -> str:
    cur_col = currency_column(names)
    currency = read_currency(Path(datafile), cur_col) if probe and cur_col else None
    if currency:
        return f"currency: {currency}            # the most frequent value of {comment_text(cur_col)}"
    why = f"{comment_text(cur_col)} holds no ISO code" if cur_col else "the data has no currency column"
    return (f"# currency: USD          # NOT GUESSED ({why}): write your ISO 4217 code "
            "(USD, GBP, EUR …); reports show USD until you do")


def params_text(datafile: Path, out: Path, names: list[str], *, probe: bool = True) -> str:
    """The text of a params file for ``datafile``, to be written at ``out``.

    Parameters
    ----------
    datafile : path
        The data file (or glob) the params will read.
    out : path
        Where the params file will be written (relative source paths are relative to it).
    names : list of str
        The data's column names (:func:`read_column_names`).
    probe : bool
        Also read the data: the currency from a currency column and ``period:`` from the data's last
        complete quarter. Without it both are left as comments for the user.
    """
    stage = stage_column(names)
    if stage is not None:   # a CRM export: one row per deal
        return pipeline_params_text(datafile, out, names, stage, probe=probe)
    cols = guess_columns(names)
    name = suggested_name(datafile)
    source = _source_for(datafile, out)
    lines = [
        "# salesnb params file written by `salesnb init`; check every guess below.",
        f"# Columns found in {comment_text(Path(datafile).name)}: {', '.join(comment_text(n) for n in names)}",
        f"name: {name}",
        f"title: {yaml_scalar(suggested_title(datafile))}",
        f"source: {yaml_scalar(source)}",
        "columns:",
    ]
    composite = "order_id" not in cols and {"customer_id", "order_date"} <= set(cols)
    mapping: dict = {}
    for role in CANONICAL_COLUMNS:
        if role in cols:
            lines.append(f"  {role}: {yaml_scalar(cols[role])}")
            mapping[role] = cols[role]
        elif role == "order_id" and composite:
            # no order id (a purchase log such as CDNOW): one order per customer and day
            lines.append(f"  order_id: [{yaml_scalar(cols['customer_id'])}, {yaml_scalar(cols['order_date'])}]"
                         "   # no order id column found: an order is one customer's purchases on one day")
            mapping[role] = [cols["customer_id"], cols["order_date"]]
        elif role in OPTIONAL_NOTES:
            lines.append(f"  # {role}:  (not guessed; optional: {OPTIONAL_NOTES[role]})")
        else:
            lines.append(f"  # {role}:  (not guessed; map it to your column if you have one)")
    if "revenue" not in cols and not {"quantity", "unit_price"} <= set(cols):
        lines.append("# TODO: map revenue, or both quantity and unit_price — salesnb needs one of them.")
    for role in ("order_id", "order_date"):
        if role not in cols and not (role == "order_id" and composite):
            lines.append(f"# TODO: {role} is required and could not be guessed.")
    lines += [
        "date_format: auto        # or dayfirst, monthfirst, or a pattern such as '%d/%m/%Y'",
        "decimal: \".\"             # ',' for numbers written 1.234,56",
    ]
    lines.append(_currency_line(datafile, names, probe))
    lines += [
        "dedupe: false            # true drops exact duplicate rows",
        "fiscal_year_start: 1",
    ]
    period, why = (None, "not read: run salesnb init on the file to guess it")
    required = {"order_id", "order_date"} <= set(mapping) and (
        "revenue" in mapping or {"quantity", "unit_price"} <= set(mapping))
    if probe and required:
        period, why = guess_period({"name": name, "source": str(Path(os.path.abspath(datafile))),
                                    "columns": mapping})
    elif not required:
        why = "map the required columns first"
    if period:
        lines.append(f"period: {period}          # the default period of `salesnb run`: {comment_text(why)}")
    else:
        lines.append(f"# period: 2024Q3         # the default period of `salesnb run` (not guessed: "
                     f"{comment_text(why)})")
    lines.append("")
    return "\n".join(lines)

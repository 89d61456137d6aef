"""``salesnb init``: guess a params file from a data file's column names."""
from __future__ import annotations

import re
from pathlib import Path

from .config import CANONICAL_COLUMNS

# Normalised column names (lower case, no spaces/underscores) each role is known by.
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
    "product": ["productname", "product", "stockcode", "sku", "item", "productid", "description", "itemname"],
    "sales_rep": ["salesrep", "salesagent", "salesperson", "owner", "rep", "agent", "accountmanager", "seller"],
    "channel": ["channel", "saleschannel", "shipmode", "source"],
}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def guess_columns(names: list[str]) -> dict[str, str]:
    """Map canonical roles to the given column names, best alias first, each column used once."""
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
    # order_id and customer_id may legitimately share a column only when nothing else fits
    return chosen


def read_column_names(path: Path) -> list[str]:
    from .config import config_from_dict
    from .data import _Reader
    import duckdb
    import tempfile
    import shutil
    cfg = config_from_dict({"name": "probe", "source": str(path),
                            "columns": {"order_id": "x", "order_date": "y", "revenue": "z"}})
    tmp = tempfile.mkdtemp(prefix="salesnb-init-")
    db = duckdb.connect()
    try:
        reader = _Reader(cfg, db, tmp)
        reader.register()
        return [r[0] for r in db.execute("DESCRIBE raw").fetchall()]
    finally:
        db.close()
        shutil.rmtree(tmp, ignore_errors=True)


def suggested_name(datafile: Path) -> str:
    """A valid params ``name`` from a data file's name: ``Sample - Superstore.csv`` → ``sample-superstore``."""
    datafile = Path(datafile)
    stem = Path(datafile.name.removesuffix(".gz")).stem
    if any(ch in datafile.name for ch in "*?["):  # a glob: name it after its folder
        stem = datafile.parent.name
    import unicodedata
    stem = "".join(ch for ch in unicodedata.normalize("NFKD", stem) if not unicodedata.combining(ch))
    return re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9_-]+", "-", stem)).strip("-_").lower() or "sales"


def params_text(datafile: Path, out: Path, names: list[str]) -> str:
    cols = guess_columns(names)
    name = suggested_name(datafile)
    try:
        rel = Path(datafile).resolve().relative_to(out.resolve().parent)
    except ValueError:
        import os
        rel = Path(os.path.relpath(Path(datafile).resolve(), out.resolve().parent))
    lines = [
        "# salesnb params file written by `salesnb init`; check every guess below.",
        f"# Columns found in {datafile.name}: {', '.join(names)}",
        f"name: {name}",
        f"source: {_yaml_str(str(rel))}",
        "columns:",
    ]
    composite = "order_id" not in cols and {"customer_id", "order_date"} <= set(cols)
    for role in CANONICAL_COLUMNS:
        if role in cols:
            lines.append(f"  {role}: {_yaml_str(cols[role])}")
        elif role == "order_id" and composite:
            # no order id (a purchase log such as CDNOW): one order per customer and day
            lines.append(f"  order_id: [{_yaml_str(cols['customer_id'])}, {_yaml_str(cols['order_date'])}]"
                         "   # no order id column found: an order is one customer's purchases on one day")
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
        "currency: USD            # ISO 4217 code",
        "dedupe: false            # true drops exact duplicate rows",
        "fiscal_year_start: 1",
        "# period: 2024Q3         # the default period of `salesnb run`",
        "",
    ]
    return "\n".join(lines)


def _yaml_str(text: str) -> str:
    import json
    return json.dumps(text, ensure_ascii=False) if re.search(r"[:#{}\[\],&*?|<>=!%@`'\"\s]|^[-0-9]", text) else text

"""Joint-cloud operations that combine the pieces: the departure of a city with its signed
receipt, and the apportionment report from stored inputs."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.jointcloud import leaving, receipt
from portal.jointcloud.apportion import Basis, apportion
from portal.jointcloud.models import (ApportionmentBasis, CostLine, Departure,
                                      StandaloneEstimate)

RECEIPT_FORMAT = "madoguchi-departure-receipt/1"


def depart(db: Session, code: str, export_dir: Path, key: Ed25519PrivateKey,
           deployment: str = "") -> dict:
    """Delete a city that has exported its data and return the signed receipt (脱退証明).
    Everything happens in the caller's transaction: either all rows go and the receipt
    is kept, or nothing changes."""
    manifest = leaving.read_manifest(export_dir)
    city = leaving.find_city(db, code)
    name = city.name
    deleted = leaving.delete_city(db, code, manifest)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    document = {
        "format": RECEIPT_FORMAT, "deployment": deployment,
        "municipality": {"code": code, "name": name},
        "deleted_at": now.isoformat(timespec="seconds") + "Z",
        "export": {"manifest_sha256": leaving.manifest_digest(export_dir),
                   "exported_at": manifest["exported_at"],
                   "rows": {t: e["rows"] for t, e in manifest["tables"].items()},
                   "files": {e["json"]: e["json_sha256"] for e in manifest["tables"].values()}
                   | {e["csv"]: e["csv_sha256"] for e in manifest["tables"].values()}
                   | {x["file"]: x["sha256"] for x in manifest.get("extras", [])}},
        "deleted": {"rows": deleted, "total": sum(deleted.values())},
    }
    signed = receipt.sign(document, key)
    db.add(Departure(city_code=code, city_name=name, deleted_at=now, receipt=signed))
    return signed


# --- Apportionment from stored inputs ------------------------------------------------------


def stored_inputs(db: Session, first_year: int | None = None, last_year: int | None = None
                  ) -> tuple[list[CostLine], dict[int, list[Basis]]]:
    """Cost lines and the stored basis of the years asked (all years by default)."""
    query = select(CostLine).order_by(CostLine.fiscal_year, CostLine.category, CostLine.id)
    basis_query = select(ApportionmentBasis).order_by(ApportionmentBasis.city_code)
    if first_year is not None:
        query = query.where(CostLine.fiscal_year >= first_year)
        basis_query = basis_query.where(ApportionmentBasis.fiscal_year >= first_year)
    if last_year is not None:
        query = query.where(CostLine.fiscal_year <= last_year)
        basis_query = basis_query.where(ApportionmentBasis.fiscal_year <= last_year)
    lines = list(db.scalars(query))
    basis: dict[int, list[Basis]] = {}
    for row in db.scalars(basis_query):
        basis.setdefault(row.fiscal_year, []).append(
            Basis(row.city_code, row.city_name, row.population, dict(row.usage or {})))
    return lines, basis


def inputs_digest(lines: list[CostLine], basis: dict[int, list[Basis]]) -> str:
    """SHA-256 of the inputs in canonical form: two reports with equal digests used equal
    inputs, so anyone holding the inputs can recompute and check the figures."""
    payload = {"lines": [[l.fiscal_year, l.category, l.label, l.amount_yen, l.weight_equal,
                          l.weight_population, l.weight_usage, l.usage_metric] for l in lines],
               "basis": {str(y): [[b.code, b.population, dict(sorted(b.usage.items()))]
                                  for b in rows] for y, rows in sorted(basis.items())}}
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True,
                                     separators=(",", ":")).encode()).hexdigest()


def standalone_estimates(db: Session) -> list[StandaloneEstimate]:
    return list(db.scalars(select(StandaloneEstimate).order_by(
        StandaloneEstimate.city_code, StandaloneEstimate.first_year, StandaloneEstimate.category)))


def compute(lines: list[CostLine], basis: dict[int, list[Basis]]):
    return apportion([line.as_item() for line in lines], basis)

"""The price table: on-demand hourly prices the platform estimates monthly costs from.

The table shipped in the package (``policy/data/prices.json``, its source and date inside) is
used until an admin imports one (``goldenpath policies prices import FILE``), which is checked
and then kept as ``<data_dir>/price-table.json``; it is read again whenever that file changes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from goldenpath.errors import InvalidInput, InvalidInputs
from goldenpath.policy.vocabulary import UNKNOWN

SHIPPED = Path(__file__).parent / "data" / "prices.json"
IMPORTED_NAME = "price-table.json"

Region = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")]
SizeName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{1,40}$")]
Hourly = Annotated[float, Field(gt=0, lt=1000)]
# Engines the RDS prices are kept for; MariaDB is billed as MySQL.
ENGINES = {"postgres": "postgres", "mysql": "mysql", "mariadb": "mysql"}


class PriceTableFile(BaseModel):
    """The JSON an admin supplies (the shipped file has the same shape)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=1, max_length=2000)
    as_of: date
    currency: Literal["USD"]
    hours_per_month: float = Field(gt=0, le=744)
    ec2: dict[Region, dict[SizeName, Hourly]] = Field(default_factory=dict)
    rds: dict[Region, dict[Literal["postgres", "mysql"], dict[SizeName, Hourly]]] = Field(
        default_factory=dict
    )
    elasticache: dict[Region, dict[SizeName, Hourly]] = Field(default_factory=dict)


@dataclass(frozen=True)
class PriceTable:
    """Hourly prices by service, region and size; monthly estimates from them."""

    source: str
    as_of: str
    hours_per_month: float
    hourly: Mapping[str, Mapping[str, Any]]
    origin: str = "shipped"

    @classmethod
    def from_file(cls, path: Path, *, origin: str = "shipped") -> PriceTable:
        return cls.of(read_price_file(path), origin=origin)

    @classmethod
    def of(cls, checked: PriceTableFile, *, origin: str = "shipped") -> PriceTable:
        return cls(
            source=checked.source,
            as_of=checked.as_of.isoformat(),
            hours_per_month=checked.hours_per_month,
            hourly={"ec2": checked.ec2, "rds": checked.rds, "elasticache": checked.elasticache},
            origin=origin,
        )

    def hourly_price(self, described: Mapping[str, Any]) -> float | None:
        """The hourly price of one unit of a described resource, None when not in the table."""
        region, size = described.get("region"), described.get("size")
        if described.get("provider") != "aws" or not isinstance(region, str):
            return None
        if not isinstance(size, str) or size == UNKNOWN:
            return None
        kind = described.get("kind")
        prices: Any = None
        if kind in ("compute.instance", "compute.autoscaling_group"):
            prices = self.hourly["ec2"].get(region)
        elif kind in ("database.instance", "database.cluster"):
            engine = ENGINES.get(str(described.get("engine")))
            prices = (self.hourly["rds"].get(region) or {}).get(engine) if engine else None
        elif kind == "cache.cluster":
            prices = self.hourly["elasticache"].get(region)
        found = (prices or {}).get(size)
        return float(found) if found is not None else None

    def monthly(self, described: Mapping[str, Any]) -> float | None:
        """Hourly price x hours per month x how many run (an autoscaling group's capacity)."""
        hourly = self.hourly_price(described)
        units = described.get("count", 1)
        if hourly is None or not isinstance(units, int) or isinstance(units, bool):
            return None
        return round(hourly * self.hours_per_month * units, 2)

    def rows(self) -> list[tuple[str, str, str, float]]:
        """(service, region, size, hourly USD) for every price, for `prices show`."""
        found: list[tuple[str, str, str, float]] = []
        for service in ("ec2", "elasticache"):
            for region, sizes in sorted(self.hourly[service].items()):
                found.extend((service, region, s, float(p)) for s, p in sorted(sizes.items()))
        for region, engines in sorted(self.hourly["rds"].items()):
            for engine, sizes in sorted(engines.items()):
                found.extend(
                    (f"rds/{engine}", region, s, float(p)) for s, p in sorted(sizes.items())
                )
        return found


def read_price_file(path: Path) -> PriceTableFile:
    """The file, checked; InvalidInputs naming each bad field (``ec2.us-east-1.t3.micro``)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInputs([InvalidInput(field=str(path), rule=f"cannot be read: {exc}")]) from exc
    except ValueError as exc:
        raise InvalidInputs([InvalidInput(field=str(path), rule=f"is not JSON: {exc}")]) from exc
    try:
        return PriceTableFile.model_validate(data)
    except ValidationError as exc:
        problems = [
            InvalidInput(
                field=".".join(str(p) for p in error["loc"] if p != "[key]") or "(file)",
                rule=_rule(error),
            )
            for error in exc.errors()
        ]
        raise InvalidInputs(problems) from exc


def _rule(error: Mapping[str, Any]) -> str:
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return "is not a field of a price table (ec2, rds, elasticache, source, as_of, ...)"
    if error["type"] == "string_pattern_mismatch" and "[key]" in error["loc"]:
        return f"'{error['input']}' is not a valid name ({_lower_first(error['msg'])})"
    return _lower_first(str(error["msg"]))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


class PriceBook:
    """The price table in force for a data directory: the imported one, else the shipped one."""

    def __init__(self, data_dir: Path | None) -> None:
        self.imported = data_dir / IMPORTED_NAME if data_dir is not None else None
        self._lock = threading.Lock()
        self._cached: tuple[float | None, PriceTable] | None = None

    def current(self) -> PriceTable:
        stamp = _mtime(self.imported)
        with self._lock:
            if self._cached is not None and self._cached[0] == stamp:
                return self._cached[1]
            if stamp is not None and self.imported is not None:
                table = PriceTable.from_file(self.imported, origin=str(self.imported))
            else:
                table = shipped_table()
            self._cached = (stamp, table)
            return table

    def import_file(self, path: Path) -> PriceTable:
        """Check ``path`` and keep it as the platform's table; nothing changes when invalid."""
        if self.imported is None:
            raise InvalidInputs([InvalidInput(field="data_dir", rule="is needed to keep a table")])
        checked = read_price_file(path)
        self.imported.parent.mkdir(parents=True, exist_ok=True)
        partial = self.imported.with_suffix(".json.tmp")
        partial.write_text(checked.model_dump_json(indent=2), encoding="utf-8")
        partial.replace(self.imported)
        return PriceTable.of(checked, origin=str(self.imported))


def _mtime(path: Path | None) -> float | None:
    try:
        return path.stat().st_mtime_ns if path is not None else None
    except FileNotFoundError:
        return None


_shipped: PriceTable | None = None


def shipped_table() -> PriceTable:
    global _shipped
    if _shipped is None:
        _shipped = PriceTable.from_file(SHIPPED)
    return _shipped

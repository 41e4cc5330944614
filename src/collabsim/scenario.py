"""Scenarios: inert, validated, typed descriptions of a partnership.

A :class:`Scenario` is frozen data. It is loaded from TOML (:func:`load_scenario`),
changed only by :meth:`Scenario.with_overrides` (which validates like the loader), and
written back with :meth:`Scenario.to_toml`; ``load(dump(s)) == s``.
"""

from __future__ import annotations

import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import tomli_w

from collabsim.errors import InputError, suggest, where
from collabsim.schema import (
    BYTES_PER_PAIR,
    GOAL_DIMENSIONS,
    MAX_MEMBERS,
    ORGANISATION_FIELDS,
    PARAMS,
    SECTIONS,
    SECTOR_GOALS,
    SECTORS,
    SHOCK_FIELDS,
    Field,
    defaults,
    lookup,
)

TABLES = "organisation"  # the repeated top-level table of listed organisations
SHOCKS = "environment.shocks"


@dataclass(frozen=True)
class OrganisationSpec:
    """A listed organisation, as the scenario describes it."""

    name: str
    sector: str
    power: float
    budget: float
    admin_capacity: float
    prosociality: float
    commitment: float
    goals: tuple[float, ...]


@dataclass(frozen=True)
class Shock:
    """A scheduled environmental event."""

    step: int
    kind: str
    size: float
    target: str


@dataclass(frozen=True)
class Scenario:
    """A complete, validated scenario.

    Attributes:
        params: Every parameter by dotted key (defaults filled in).
        organisations: Listed organisations, in file order.
        shocks: Scheduled events, in file order.
        source: Where it was loaded from (not part of equality).
    """

    params: Mapping[str, Any]
    organisations: tuple[OrganisationSpec, ...] = ()
    shocks: tuple[Shock, ...] = ()
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def __reduce__(self) -> tuple[Any, ...]:  # mappingproxy does not pickle; a dict does
        return (Scenario, (dict(self.params), self.organisations, self.shocks, self.source))

    def __hash__(self) -> int:
        return hash((tuple(sorted(self.params.items())), self.organisations, self.shocks))

    @property
    def name(self) -> str:
        """The scenario's short name."""
        return self.params["scenario.name"]

    @property
    def n_members(self) -> int:
        """Founding members: listed plus generated."""
        return len(self.organisations) + self.params["population.size"]

    def with_overrides(self, overrides: Mapping[str, Any], source: str = "--set") -> Scenario:
        """Return a copy with some parameters changed, validated as the loader would.

        Args:
            overrides: Dotted keys to new values (already typed, or strings from a
                command line, which are parsed as TOML values).
            source: What to name in error messages.
        """
        params = dict(self.params)
        for key, value in overrides.items():
            spec = lookup(key, source)
            if isinstance(value, str) and spec.kind not in ("str", "choice"):
                value = parse_value(value, spec.kind)
            params[key] = spec.check(value, source, key)
        new = replace(self, params=params)
        _check_cross_fields(new, source)
        return new

    def to_dict(self) -> dict[str, Any]:
        """The scenario as nested plain data (the TOML document)."""
        doc: dict[str, Any] = {}
        for p in PARAMS:
            value = self.params[p.key]
            value = list(value) if isinstance(value, tuple) else value
            doc.setdefault(p.section, {})[p.name] = value
        if self.shocks:
            doc["environment"]["shocks"] = [
                {f.name: getattr(s, f.name) for f in fields(s)} for s in self.shocks
            ]
        if self.organisations:
            doc[TABLES] = [
                {
                    **{f.name: getattr(o, f.name) for f in fields(o) if f.name != "goals"},
                    "goals": dict(zip(GOAL_DIMENSIONS, o.goals, strict=True)),
                }
                for o in self.organisations
            ]
        return doc

    def to_toml(self) -> str:
        """Serialise to TOML; :func:`loads_scenario` reads it back unchanged."""
        return tomli_w.dumps(self.to_dict())


def parse_value(text: str, kind: str) -> Any:
    """Parse a command-line value as a TOML value; bare words stay strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        if kind == "strlist":
            return [s.strip() for s in text.split(",") if s.strip()]
        return text


BASE_KEY = "base"  # [scenario] base = "other.toml": start from that scenario


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file.

    A file may start from another scenario with ``[scenario] base = "other.toml"``
    (relative to the file): its tables then override the base's keys, and its
    ``[[organisation]]`` or ``[[environment.shocks]]`` tables, if any, replace the
    base's lists.

    Raises:
        InputError: one line naming the file, the key, the value and what is allowed.
    """
    doc = _read_with_bases(Path(path), [])
    return from_dict(doc, str(path))


MAX_TOML_BYTES = 1_000_000  # larger scenario or sweep files are refused, not read
MAX_DEPTH = 16  # tables and arrays nested deeper than this are refused
MAX_BASES = 32  # longest chain of `base` scenarios


def read_toml(path: Path, kind: str = "scenario") -> tuple[str, dict[str, Any]]:
    """Read a TOML file: its text and parsed document, or a one-line InputError.

    Only a regular file of at most ``MAX_TOML_BYTES`` is read: a directory, a device
    such as ``/dev/zero``, a pipe or a socket is refused before it is opened, so
    reading never hangs or fills memory.
    """
    src = str(path)
    expected = f"expected a {kind} .toml file"
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{src}: is a directory, {expected}")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{src}: is not a regular file (a device, pipe or socket), "
                             f"{expected}")
        with path.open("rb") as fh:
            data = fh.read(MAX_TOML_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{src}: no such file") from None
    except OSError as exc:
        raise InputError(f"{src}: cannot read ({exc.strerror})") from None
    if len(data) > MAX_TOML_BYTES:
        raise InputError(f"{src}: is larger than {MAX_TOML_BYTES:,} bytes, {expected}")
    try:
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError:
        raise InputError(f"{src}: not UTF-8 text, {expected}") from None
    return text, parse_toml(text, src)


def parse_toml(text: str, source: str | None = None) -> dict[str, Any]:
    """Parse TOML text; malformed or too deeply nested text is a one-line InputError."""
    src = source or "<string>"
    too_deep = InputError(f"{src}: tables or arrays are nested more than {MAX_DEPTH} deep")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{src}: malformed TOML: {exc}") from None
    except RecursionError:
        raise too_deep from None
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:  # iterative, so depth itself cannot overflow the stack
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise too_deep
        items = value.values() if isinstance(value, dict) else value
        stack.extend((v, depth + 1) for v in items if isinstance(v, dict | list))
    return doc


def _read_with_bases(path: Path, chain: list[Path]) -> dict[str, Any]:
    _, doc = read_toml(path)
    table = doc.get("scenario")
    if not isinstance(table, dict) or BASE_KEY not in table:
        return doc
    base = table.pop(BASE_KEY)
    key = where(str(path), f"scenario.{BASE_KEY}")
    if not isinstance(base, str) or not base:
        raise InputError(f"{key} = {base!r} is not allowed; expected a path to a .toml file")
    if len(chain) >= MAX_BASES:
        raise InputError(f"{key} = {base!r} makes a chain of more than {MAX_BASES} base "
                         "scenarios; expected a shorter chain")
    try:
        base_path = (path.parent / base).resolve()
    except (OSError, RuntimeError) as exc:  # e.g. a symlink loop
        raise InputError(f"{key} = {base!r}: cannot be resolved ({exc})") from None
    if base_path in chain or base_path == path.resolve():
        raise InputError(f"{key} = {base!r} makes a cycle of base scenarios")
    if not base_path.exists():
        raise InputError(f"{key} = {base!r}: no such file ({base_path})")
    merged = _read_with_bases(base_path, [*chain, path.resolve()])
    for section, value in doc.items():
        if isinstance(value, dict) and isinstance(merged.get(section), dict):
            merged[section] = {**merged[section], **value}
        else:
            merged[section] = value
    return merged


def loads_scenario(text: str, source: str | None = None) -> Scenario:
    """Parse and validate a scenario from TOML text."""
    return from_dict(parse_toml(text, source), source)


def from_dict(doc: Mapping[str, Any], source: str | None = None) -> Scenario:
    """Validate a nested mapping (a parsed TOML document) into a Scenario."""
    params = defaults()
    organisations: list[OrganisationSpec] = []
    shocks: list[Shock] = []
    top_level = (*SECTIONS, TABLES)
    for section, table in doc.items():
        if section == TABLES:
            organisations = _organisations(table, source)
            continue
        if section not in SECTIONS:
            raise InputError(
                f"{where(source, section)} is not a known table{suggest(section, top_level)}; "
                f"expected one of {', '.join(top_level)}"
            )
        if not isinstance(table, dict):
            raise InputError(f"{where(source, section)} must be a table, like [{section}]")
        for name, value in table.items():
            key = f"{section}.{name}"
            if key == SHOCKS:
                shocks = _shocks(value, source)
                continue
            spec = lookup(key, source)
            params[key] = spec.check(value, source)
    scenario = Scenario(params, tuple(organisations), tuple(shocks), source=source)
    _check_cross_fields(scenario, source)
    return scenario


def _rows(value: Any, table: str, source: str | None) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InputError(f"{where(source, table)} must be an array of tables, like [[{table}]]")
    return value


def _fields(
    row: dict[str, Any], specs: tuple[Field, ...], label: str, source: str | None
) -> dict[str, Any]:
    names = [f.name for f in specs]
    for name in row:
        if name not in names:
            raise InputError(
                f"{where(source, f'{label}.{name}')} is not a known field{suggest(name, names)}; "
                f"expected one of {', '.join(names)}"
            )
    out: dict[str, Any] = {}
    for f in specs:
        key = f"{label}.{f.name}"
        if f.name not in row:
            if f.required:
                raise InputError(f"{where(source, key)} is missing; it is required")
            out[f.name] = f.default
            continue
        if f.kind == "goals":
            out[f.name] = _goals(row[f.name], key, source)
        else:
            out[f.name] = f.as_param(label).check(row[f.name], source, key)
    return out


def _goals(value: Any, key: str, source: str | None) -> tuple[float, ...]:
    dims = ", ".join(GOAL_DIMENSIONS)
    if not isinstance(value, dict):
        raise InputError(
            f"{where(source, key)} must be a table of {dims}, e.g. "
            "{ prevention = 0.7, acute_care = 0.3, safety = 0.5, independence = 0.8 }"
        )
    unit = Field("goal", "float", 0.5, "", 0.0, 1.0).as_param(key)
    out = []
    for name in value:
        if name not in GOAL_DIMENSIONS:
            raise InputError(
                f"{where(source, f'{key}.{name}')} is not a goal dimension"
                f"{suggest(name, GOAL_DIMENSIONS)}; expected one of {dims}"
            )
    for dim in GOAL_DIMENSIONS:
        if dim not in value:
            raise InputError(f"{where(source, f'{key}.{dim}')} is missing; give all of {dims}")
        out.append(unit.check(value[dim], source, f"{key}.{dim}"))
    return tuple(out)


def _organisations(value: Any, source: str | None) -> list[OrganisationSpec]:
    orgs = []
    for i, row in enumerate(_rows(value, TABLES, source), start=1):
        data = _fields(row, ORGANISATION_FIELDS, f"{TABLES}[{i}]", source)
        if data["goals"] is None:
            data["goals"] = SECTOR_GOALS[data["sector"]]
        orgs.append(OrganisationSpec(**data))
    return orgs


def _shocks(value: Any, source: str | None) -> list[Shock]:
    return [
        Shock(**_fields(row, SHOCK_FIELDS, f"{SHOCKS}[{i}]", source))
        for i, row in enumerate(_rows(value, SHOCKS, source), start=1)
    ]


def _check_cross_fields(s: Scenario, source: str | None) -> None:
    names = [o.name for o in s.organisations]
    seen: set[str] = set()
    for i, name in enumerate(names, start=1):
        if name in seen:
            raise InputError(
                f"{where(source, f'{TABLES}[{i}].name')} = {name!r} is used twice; "
                "names must be unique"
            )
        seen.add(name)
    if s.n_members < 2:
        raise InputError(
            f"{where(source, 'population.size')} = {s['population.size']} with "
            f"{len(names)} listed organisation(s) is not allowed; a partnership needs at least "
            "2 members (list [[organisation]] tables or set population.size)"
        )
    joiners = sum(shock.kind == "join" for shock in s.shocks)
    most = s.n_members + joiners
    if most > MAX_MEMBERS:
        raise InputError(
            f"{where(source, 'population.size')} = {s['population.size']} with {len(names)} "
            f"listed organisation(s){f' and {joiners} joiner(s)' if joiners else ''} makes "
            f"{most} members, which would need about {BYTES_PER_PAIR * most**2 / 2**30:,.1f} "
            f"GiB of memory; at most {MAX_MEMBERS} members are allowed"
        )
    lead = s["governance.lead"]
    if lead and lead not in seen:
        raise InputError(
            f"{where(source, 'governance.lead')} = {lead!r} is not a listed organisation"
            f"{suggest(lead, names)}; expected one of {', '.join(names) or '(none listed)'} "
            "or empty for the most powerful member"
        )
    for i, shock in enumerate(s.shocks, start=1):
        t = shock.target
        if t and t not in seen and t not in SECTORS:
            raise InputError(
                f"{where(source, f'{SHOCKS}[{i}].target')} = {t!r} is not a member or a sector"
                f"{suggest(t, [*names, *SECTORS])}; expected a listed name, a sector, or empty"
            )
        if shock.step > s["scenario.steps"]:
            raise InputError(
                f"{where(source, f'{SHOCKS}[{i}].step')} = {shock.step} is not allowed; "
                f"expected an integer in [1, {s['scenario.steps']}] (scenario.steps)"
            )

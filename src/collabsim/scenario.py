"""Scenarios: inert, validated, typed descriptions of a partnership.

A :class:`Scenario` is frozen data. It is loaded from TOML (:func:`load_scenario`),
changed only by :meth:`Scenario.with_overrides` (which validates like the loader), and
written back with :meth:`Scenario.to_toml`; ``load(dump(s)) == s``.
"""

from __future__ import annotations

import re
import stat
import tomllib
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from importlib.resources import files
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
    PARAM_BY_KEY,
    PARAMS,
    SECTIONS,
    SECTOR_GOALS,
    SECTORS,
    SHOCK_FIELDS,
    Field,
    Param,
    defaults,
    lookup,
)

TABLES = "organisation"  # the repeated top-level table of listed organisations
SHOCKS = "environment.shocks"
REMOVE = "remove"  # [[organisation]] name = "X"  remove = true: drop a base's member

#: Where the error for one field of a listed organisation points: (file, "organisation[k]").
Origin = dict[str, tuple[str | None, str]]


class ScenarioWarning(UserWarning):
    """A scenario sets something that cannot affect its runs."""


def bundled_scenarios() -> Path:
    """The folder of scenarios shipped with the package (package data)."""
    return Path(str(files("collabsim") / "scenarios"))


def scenario_path(name: str | Path) -> Path:
    """A scenario file: ``name`` itself if it exists, else a bundled scenario by short name.

    ``baseline``, ``teaching/tokenism`` and ``policy/status_quo.toml`` all name bundled
    files; a path that exists always wins.
    """
    path = Path(name)
    if path.exists():
        return path
    return bundled_path(name) or path


def bundled_path(name: str | Path) -> Path | None:
    """The bundled scenario a short name (``baseline``, ``teaching/tokenism``) names, or None."""
    short = str(name).removesuffix(".toml")
    if short and ".." not in Path(short).parts and not Path(short).is_absolute():
        bundled = bundled_scenarios() / f"{short}.toml"
        if bundled.is_file():
            return bundled
        matches = sorted(bundled_scenarios().rglob(f"{Path(short).name}.toml"))
        if len(matches) == 1 and "/" not in short:
            return matches[0]
    return None


def base_file(path: Path, base: str) -> Path:
    """The file ``base = ...`` in scenario ``path`` names: relative to it, else bundled."""
    found = (path.parent / base).resolve()
    if found.exists():
        return found
    bundled = bundled_path(base)
    return bundled.resolve() if bundled is not None else found


def bundled_names() -> list[str]:
    """Short names of the bundled scenarios (``baseline``, ``teaching/tokenism``, ...)."""
    root = bundled_scenarios()
    return sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.toml"))


def bundled_hint(name: str) -> str:
    """``" (did you mean 'baseline'? ...)"`` for a name close to a bundled scenario's."""
    names = bundled_names()
    stems = {n.rsplit("/", 1)[-1]: n for n in names}
    short = name.removesuffix(".toml")
    hint = suggest(short, names) or suggest(Path(short).name, stems)
    return f"{hint[:-1]} `collabsim list` shows every bundled scenario)" if hint else ""


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
        pinned: The parameters its file (or a base file) or an override sets
            explicitly; the calibrated ensemble (:mod:`collabsim.ensemble`) never
            changes them. Not part of equality.
    """

    params: Mapping[str, Any]
    organisations: tuple[OrganisationSpec, ...] = ()
    shocks: tuple[Shock, ...] = ()
    source: str | None = field(default=None, compare=False)
    pinned: frozenset[str] = field(default=frozenset(), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def __reduce__(self) -> tuple[Any, ...]:  # mappingproxy does not pickle; a dict does
        return (Scenario, (dict(self.params), self.organisations, self.shocks, self.source,
                           self.pinned))

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

    def with_overrides(self, overrides: Mapping[str, Any], source: str = "with_overrides", *,
                       pin: bool = True) -> Scenario:
        """Return a copy with some parameters changed, validated as the loader would.

        Args:
            overrides: Dotted keys to new values (already typed, or strings from a
                command line, which are parsed as TOML values).
            source: What to name in error messages.
            pin: Add the keys to :attr:`pinned` (an ensemble draw does not pin).
        """
        params = dict(self.params)
        orgs, shocks = list(self.organisations), list(self.shocks)
        for key, value in overrides.items():
            spec = override_param(self, key, source)
            if isinstance(value, str) and spec.kind not in ("str", "choice"):
                value = parse_value(value, spec.kind)
            value = spec.check(value, source, key)
            member = MEMBER_KEY.match(key)
            if member is None:
                params[key] = value
                continue
            table, _, name = member.groups()
            rows = orgs if table == TABLES else shocks
            k = _row_index(self, table, member.group(2))
            if name.startswith("goals."):
                goals = list(rows[k].goals)
                goals[GOAL_DIMENSIONS.index(name.split(".", 1)[1])] = value
                rows[k] = replace(rows[k], goals=tuple(goals))
            else:
                rows[k] = replace(rows[k], **{name: value})
        new = replace(self, params=params, organisations=tuple(orgs), shocks=tuple(shocks),
                      pinned=self.pinned | frozenset(overrides) if pin else self.pinned)
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


#: A key that reaches one listed organisation or shock: ``organisation[Riverton].commitment``,
#: ``organisation[2].goals.prevention``, ``environment.shocks[1].size`` (numbers count from 1).
MEMBER_KEY = re.compile(
    r"^(organisation|environment\.shocks)\[([^\]]+)\]\.([a-z_]+(?:\.[a-z_]+)?)$")


def override_param(scenario: Scenario, key: str, source: str | None = None) -> Param:
    """The parameter a ``--set`` or sweep key names in ``scenario``, or a one-line InputError.

    Besides every dotted key of the schema, ``organisation[NAME or N].FIELD`` (and
    ``.goals.DIMENSION``) and ``environment.shocks[N].FIELD`` reach a listed member or a
    scheduled shock. The sweep engine calls this to check its ``[parameters]`` keys.
    """
    member = MEMBER_KEY.match(key)
    if member is None:
        if re.match(r"^(shocks?|organi[sz]ations?)\[", key):
            raise InputError(f"{where(source, key)} is not a known parameter; one shock or "
                             "member is environment.shocks[N].FIELD or "
                             "organisation[NAME or N].FIELD, numbered from 1")
        return lookup(key, source)
    table, which, name = member.groups()
    _row_index(scenario, table, which, source, key)
    specs = ORGANISATION_FIELDS if table == TABLES else SHOCK_FIELDS
    names = [f.name for f in specs if f.name != "name"]
    if table == TABLES and name.startswith("goals."):
        dim = name.split(".", 1)[1]
        if dim not in GOAL_DIMENSIONS:
            raise InputError(f"{where(source, key)}: {dim!r} is not a goal dimension"
                             f"{suggest(dim, GOAL_DIMENSIONS)}; expected one of "
                             f"{', '.join(GOAL_DIMENSIONS)}")
        return Param(key, "float", 0.5, "goal", 0.0, 1.0)
    spec = next((f for f in specs if f.name == name and f.name != "name"), None)
    if spec is None or spec.kind == "goals":
        allowed = [n if n != "goals" else "goals.DIMENSION" for n in names]
        raise InputError(f"{where(source, key)}: {name!r} is not a field that can be set"
                         f"{suggest(name, names)}; expected one of {', '.join(allowed)}")
    return spec.as_param(key.rsplit(".", 1)[0])


def _row_index(scenario: Scenario, table: str, which: str, source: str | None = None,
               key: str = "") -> int:
    """The position of ``organisation[which]`` or ``environment.shocks[which]``."""
    rows = scenario.organisations if table == TABLES else scenario.shocks
    what = "listed organisation" if table == TABLES else "shock"
    if not rows:
        raise InputError(f"{where(source, key)}: {scenario.name} has no {what}s "
                         f"(its members are generated)" if table == TABLES else
                         f"{where(source, key)}: {scenario.name} has no shocks")
    if which.isdigit():
        if 1 <= int(which) <= len(rows):
            return int(which) - 1
        raise InputError(f"{where(source, key)}: the scenario has {len(rows)} {what}(s); "
                         f"expected a number in [1, {len(rows)}]")
    if table != TABLES:
        raise InputError(f"{where(source, key)}: shocks are numbered, not named; expected a "
                         f"number in [1, {len(rows)}]")
    names = [o.name for o in scenario.organisations]
    if which in names:
        return names.index(which)
    expected = ", ".join(names)
    hint = suggest(which, names)
    partial = [n for n in names if which.lower() in n.lower()]
    if not hint and len(partial) == 1:
        hint = f" (did you mean '{partial[0]}'?)"
    raise InputError(f"{where(source, key)}: {which!r} is not a listed organisation{hint}; "
                     f"expected one of {expected}")


BASE_KEY = "base"  # [scenario] base = "other.toml": start from that scenario


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file (or a bundled scenario by short name).

    A file may start from another scenario with ``[scenario] base = "other.toml"``
    (relative to the file). Its tables then override the base's keys one by one;
    its ``[[organisation]]`` tables merge with the base's members by name (a known
    name changes only the fields given, a new name adds a member, ``remove = true``
    drops one); its ``[[environment.shocks]]``, if any, replace the base's schedule.

    Raises:
        InputError: one line naming the file, the key, the value and what is allowed.

    Warns:
        ScenarioWarning: for each key the file sets that cannot affect the runs.
    """
    path = scenario_path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file{bundled_hint(str(path))}")
    doc, origins = _read_with_bases(path, [])
    scenario = from_dict(doc, str(path), origins)
    for message in no_effect(scenario, doc):
        warnings.warn(f"{path}: {message}", ScenarioWarning, stacklevel=2)
    return scenario


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


def _read_with_bases(path: Path, chain: list[Path]) -> tuple[dict[str, Any], list[Origin]]:
    """The document with its bases merged in, and where each organisation's fields came from."""
    _, doc = read_toml(path)
    table = doc.get("scenario")
    rows = doc.get(TABLES, [])
    if not isinstance(table, dict) or BASE_KEY not in table:
        if isinstance(rows, list):
            for i, row in enumerate(rows, start=1):
                if isinstance(row, dict) and REMOVE in row:
                    raise InputError(f"{where(str(path), f'{TABLES}[{i}].{REMOVE}')}: removing "
                                     "a member needs a base; set [scenario] base = \"…\"")
        origins = [{"": (str(path), f"{TABLES}[{i}]")} for i in range(1, len(rows) + 1)] \
            if isinstance(rows, list) else []
        return doc, origins
    base = table.pop(BASE_KEY)
    key = where(str(path), f"scenario.{BASE_KEY}")
    if not isinstance(base, str) or not base:
        raise InputError(f"{key} = {base!r} is not allowed; expected a path to a .toml file")
    if len(chain) >= MAX_BASES:
        raise InputError(f"{key} = {base!r} makes a chain of more than {MAX_BASES} base "
                         "scenarios; expected a shorter chain")
    try:
        base_path = base_file(path, base)
    except (OSError, RuntimeError) as exc:  # e.g. a symlink loop
        raise InputError(f"{key} = {base!r}: cannot be resolved ({exc})") from None
    if base_path in chain or base_path == path.resolve():
        raise InputError(f"{key} = {base!r} makes a cycle of base scenarios")
    if not base_path.exists():
        raise InputError(f"{key} = {base!r}: no such file ({base_path}){bundled_hint(base)}")
    merged, origins = _read_with_bases(base_path, [*chain, path.resolve()])
    for section, value in doc.items():
        if section == TABLES:
            merged[TABLES], origins = _merge_members(merged.get(TABLES, []), origins, value,
                                                     str(path), base)
        elif isinstance(value, dict) and isinstance(merged.get(section), dict):
            merged[section] = {**merged[section], **value}
        else:
            merged[section] = value
    return merged, origins


def _merge_members(
    base_rows: list[dict[str, Any]], base_origins: list[Origin], value: Any, src: str, base: str
) -> tuple[list[dict[str, Any]], list[Origin]]:
    """Merge a file's ``[[organisation]]`` tables into its base's, by name."""
    rows, origins = list(base_rows), list(base_origins)
    names = [r.get("name") for r in rows]
    mine: dict[str, str] = {}  # names this file's tables gave, and where
    for i, row in enumerate(_rows(value, TABLES, src), start=1):
        label = f"{TABLES}[{i}]"
        name = row.get("name")
        if not isinstance(name, str):
            raise InputError(f"{where(src, label + '.name')} is missing; in a file with a base "
                             "each [[organisation]] needs a name: a base member's name changes "
                             "that member, a new name adds one")
        if row.get(REMOVE) is True:
            mine.pop(name, None)  # removed: the name may be given again below
        else:
            _unique(name, mine, label, src)
        row = dict(row)
        remove = row.pop(REMOVE, False)
        if not isinstance(remove, bool):
            raise InputError(f"{where(src, f'{label}.{REMOVE}')} = {remove!r} is not allowed; "
                             "expected true or false")
        here: Origin = {"": (src, label), **{k: (src, label) for k in row}}
        if remove:
            if name not in names:
                raise InputError(
                    f"{where(src, label + '.name')} = {name!r} cannot be removed: it is not a "
                    f"member of the base {base!r}{suggest(name, [str(n) for n in names])}")
            if set(row) != {"name"}:
                raise InputError(f"{where(src, label)}: remove = true takes only the name, "
                                 f"not {', '.join(sorted(set(row) - {'name'}))}")
            k = names.index(name)
            del rows[k], origins[k], names[k]
        elif name in names:
            k = names.index(name)
            old = rows[k]
            new = {**old, **row}
            if isinstance(old.get("goals"), dict) and isinstance(row.get("goals"), dict):
                new["goals"] = {**old["goals"], **row["goals"]}
            rows[k], origins[k] = new, {**origins[k], **here}
        else:
            close = suggest(name, [str(n) for n in names])
            if close and "sector" not in row:  # a misspelt member, not a new one
                raise InputError(
                    f"{where(src, label + '.name')} = {name!r} is not a member of the base "
                    f"{base!r}{close}; a new member needs its sector and the other fields")
            rows.append(row)
            origins.append(here)
            names.append(name)
    return rows, origins


def loads_scenario(text: str, source: str | None = None) -> Scenario:
    """Parse and validate a scenario from TOML text."""
    return from_dict(parse_toml(text, source), source)


def from_dict(
    doc: Mapping[str, Any], source: str | None = None, origins: list[Origin] | None = None
) -> Scenario:
    """Validate a nested mapping (a parsed TOML document) into a Scenario.

    Args:
        doc: The document.
        source: The file to name in error messages.
        origins: For each ``[[organisation]]`` row, the file and table each field was
            written in (when rows were merged from base files), for error messages.
    """
    params = defaults()
    pinned: set[str] = set()
    organisations: list[OrganisationSpec] = []
    shocks: list[Shock] = []
    top_level = (*SECTIONS, TABLES)
    for section, table in doc.items():
        if section == TABLES:
            organisations = _organisations(table, source, origins)
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
            pinned.add(key)
    scenario = Scenario(params, tuple(organisations), tuple(shocks), source=source,
                        pinned=frozenset(pinned))
    _check_cross_fields(scenario, source)
    return scenario


def _rows(value: Any, table: str, source: str | None) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InputError(f"{where(source, table)} must be an array of tables, like [[{table}]]")
    return value


def _fields(
    row: dict[str, Any], specs: tuple[Field, ...], label: str, source: str | None,
    origin: Origin | None = None,
) -> dict[str, Any]:
    def at(name: str) -> tuple[str | None, str]:
        src, where_label = (origin or {}).get(name) or (origin or {}).get("") or (source, label)
        return src, f"{where_label}.{name}"

    names = [f.name for f in specs]
    for name in row:
        if name not in names:
            raise InputError(
                f"{where(*at(name))} is not a known field{suggest(name, names)}; "
                f"expected one of {', '.join(names)}"
            )
    out: dict[str, Any] = {}
    for f in specs:
        src, key = at(f.name)
        if f.name not in row:
            if f.required:
                raise InputError(f"{where(src, key)} is missing; it is required")
            out[f.name] = f.default
            continue
        if f.kind == "goals":
            out[f.name] = _goals(row[f.name], key, src)
        else:
            out[f.name] = f.as_param(key.rsplit(".", 1)[0]).check(row[f.name], src, key)
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


def _organisations(
    value: Any, source: str | None, origins: list[Origin] | None = None
) -> list[OrganisationSpec]:
    orgs = []
    seen: dict[str, str] = {}
    for i, row in enumerate(_rows(value, TABLES, source), start=1):
        origin = origins[i - 1] if origins and len(origins) >= i else None
        data = _fields(row, ORGANISATION_FIELDS, f"{TABLES}[{i}]", source, origin)
        file, label = (origin or {}).get("", (source, f"{TABLES}[{i}]"))
        _unique(data["name"], seen, label, file)
        if data["goals"] is None:
            data["goals"] = SECTOR_GOALS[data["sector"]]
        orgs.append(OrganisationSpec(**data))
    return orgs


def _unique(name: str, seen: dict[str, str], label: str, source: str | None) -> None:
    """Refuse a second organisation of the same name (names are how members are reached).

    ``seen`` maps the names met so far to their tables' labels (``organisation[2]``).
    """
    if name in seen:
        raise InputError(f"{where(source, f'{label}.name')} = {name!r} is already the "
                         f"name of {seen[name]}; each organisation needs its own name")
    seen[name] = label


def _shocks(value: Any, source: str | None) -> list[Shock]:
    return [
        Shock(**_fields(row, SHOCK_FIELDS, f"{SHOCKS}[{i}]", source))
        for i, row in enumerate(_rows(value, SHOCKS, source), start=1)
    ]


def _check_cross_fields(s: Scenario, source: str | None) -> None:
    names = [o.name for o in s.organisations]  # unique: _organisations refuses a second
    seen = set(names)
    if s.n_members < 2:
        raise InputError(
            f"{source or '<scenario>'}: {len(names)} listed organisation(s) and "
            f"population.size = {s['population.size']} make {s.n_members} member(s); a "
            "partnership needs at least 2 members (list more [[organisation]] tables or set "
            "population.size)"
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


#: Keys that cannot change a run in some scenarios: (keys, when, the keys ``when`` reads, why).
NO_EFFECT: tuple[tuple[tuple[str, ...], Any, tuple[str, ...], str], ...] = (
    (("population.goal_conflict", "population.blocs", "population.power_inequality"),
     lambda s: s["population.size"] == 0, ("population.size",),
     "population.size = 0, so every member is listed and none is generated"),
    (("population.mean_budget", "population.admin_capacity", "population.prosociality",
      "population.sectors"),
     lambda s: s["population.size"] == 0 and not any(x.kind == "join" for x in s.shocks),
     ("population.size", "environment.shocks"),
     "population.size = 0 and no join shock, so no member is generated"),
    (("governance.supermajority",),
     lambda s: s["governance.decision_rule"] != "supermajority", ("governance.decision_rule",),
     "governance.decision_rule is not supermajority"),
    (tuple(p.key for p in PARAMS if p.section == "services" and p.key != "services.enabled"),
     lambda s: not s["services.enabled"], ("services.enabled",),
     "services.enabled is false, so the care pathway is not simulated"),
    *((keys, (lambda s, m=mode: s["governance.mode"] != m and not s["governance.adaptive"]),
       ("governance.mode", "governance.adaptive"),
       f"governance.mode is not {mode} and governance.adaptive is off")
      for mode, keys in (("nao", ("governance.nao_cost", "governance.broker_lean")),
                         ("lead", ("governance.lead_max_concession",)))),
    # adaptation only moves a partnership away from shared governance, never into it
    (("governance.concession_steps",), lambda s: s["governance.mode"] != "shared",
     ("governance.mode",), "governance.mode is not shared"),
    *(((f"funding.{rule}_visibility", f"funding.{rule}_exit_cost", *extra),
       (lambda s, r=rule: s["funding.rule"] != r), ("funding.rule",),
       f"funding.rule is not {rule}")
      for rule, extra in (("aligned", ()), ("pooled", ()),
                          ("lead_commissioning", ("funding.lead_tilt",)),
                          ("integrated", ("funding.integrated_culture_merge",)))),
)


def without_effect(scenario: Scenario, keys: Iterable[str], varied: Iterable[str] = ()
                   ) -> dict[str, str]:
    """Those of ``keys`` that cannot affect ``scenario``'s runs, each with the reason.

    ``varied`` are keys that change from run to run (a sweep's factors): a key whose
    inertness depends on one of them is not reported.
    """
    keys, varied = set(keys), set(varied)

    def touched(reads: tuple[str, ...]) -> bool:  # a read key, or one of its rows' fields
        return any(v == r or v.startswith((f"{r}[", f"{r}.")) for v in varied for r in reads)

    return {key: why
            for names, when, reads, why in NO_EFFECT if when(scenario) and not touched(reads)
            for key in names if key in keys}


def inert(scenario: Scenario, keys: Iterable[str], varied: Iterable[str] = ()) -> list[str]:
    """One sentence for each of ``keys`` that cannot affect ``scenario``'s runs."""
    return [f"{key} has no effect: {why}"
            for key, why in without_effect(scenario, keys, varied).items()]


def no_effect(scenario: Scenario, doc: Mapping[str, Any]) -> list[str]:
    """One sentence for each key ``doc`` sets that cannot affect ``scenario``'s runs.

    A key written at its default value is left alone: saved scenarios write every key.
    """
    written = {f"{section}.{name}" for section, table in doc.items() if isinstance(table, dict)
               for name in table}
    return inert(scenario, {key for key in written if key in PARAM_BY_KEY
                            and scenario[key] != PARAM_BY_KEY[key].default})

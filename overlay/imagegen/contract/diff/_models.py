"""Compare the model rules (x-imagegen-models) of two contracts, and the models an official spec names."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..models import RULES_KEY
from ._common import Impact
from ._findings import _Finding, _Report
from ._operations import _bound_change, _content, _operations
from ._shapes import _Flattener
from ._words import _key, _text, _yes_no_values

# ---- model rules ----------------------------------------------------------------------------


def _diff_models(report: _Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """The differences of two `x-imagegen-models` (rules constrain requests: narrowing breaks clients)."""
    _defaults(report, old.get("defaults") or {}, new.get("defaults") or {})
    _constraints(report, "models: constraints", old.get("constraints") or [], new.get("constraints") or [])
    old_models, new_models = old.get("models") or {}, new.get("models") or {}
    for name in old_models:
        if name not in new_models:
            report.removed("client", f"model {name}", "model", old=name)
    for name in new_models:
        if name not in old_models:
            report.added("compatible", f"model {name}", "model", new=name)
    for name in (name for name in old_models if name in new_models):
        _model(report, str(name), old_models[name] or {}, new_models[name] or {})


def _defaults(report: _Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    for operation in dict.fromkeys([*old, *new]):
        where = f"models: defaults.{operation}"
        was, now = old.get(operation), new.get(operation)
        if was == now:
            continue
        if was is None:
            report.added("compatible", where, f"default model {_text(now)}", new=now)
        elif now is None:
            report.removed("client", where, f"default model {_text(was)}", old=was)
        else:
            # requests naming no model now get another one
            report.changed(
                "client",
                where,
                "default model",
                f"default model changed from {_text(was)} to {_text(now)}",
                was,
                now,
            )


def _model(report: _Report, name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    where = f"model {name}"
    _listed_strings(
        report, f"{where}: operations", "operation", old.get("operations"), new.get("operations"), "server"
    )
    _listed_strings(
        report, f"{where}: aliases", "alias", old.get("aliases"), new.get("aliases"), "compatible"
    )
    was, now = old.get("retired_upstream"), new.get("retired_upstream")
    if was != now:
        report.changed(
            "compatible",
            where,
            "retired_upstream",
            f"retired_upstream changed from {_text(was)} to {_text(now)}",
            was,
            now,
        )
    old_answers, new_answers = old.get("answers") or {}, new.get("answers") or {}
    for key in dict.fromkeys([*old_answers, *new_answers]):
        had, has = bool(old_answers.get(key)), bool(new_answers.get(key))
        if had != has:
            impact: Impact = "server" if has else "client"
            what = f"answers now carry {key}" if has else f"answers no longer carry {key}"
            report.texts(impact, f"{where}: answers.{key}", f"answers.{key}", what, *_yes_no_values(had, has))
    old_fields, new_fields = old.get("fields") or {}, new.get("fields") or {}
    for field_name in dict.fromkeys([*old_fields, *new_fields]):
        at = f"{where}: fields.{field_name}"
        if field_name in ("image", "mask"):
            _upload_rule(report, at, old_fields.get(field_name), new_fields.get(field_name))
        else:
            _field_rule(report, at, old_fields.get(field_name), new_fields.get(field_name))
    _constraints(report, f"{where}: constraints", old.get("constraints") or [], new.get("constraints") or [])


def _listed_strings(report: _Report, where: str, noun: str, old: Any, new: Any, added: Impact) -> None:
    was, now = list(old or []), list(new or [])
    for value in was:
        if value not in now:
            report.removed("client", where, f"{noun} {_text(value)}", old=value)
    for value in now:
        if value not in was:
            report.added(added, where, f"{noun} {_text(value)}", new=value)


@dataclass(frozen=True)
class _Rule:
    """One model's rule for one request field; absent and `true` both mean "as the contract allows"."""

    refused: bool = False
    values: tuple[Any, ...] | None = None
    default: Any = None
    has_default: bool = False
    limits: Mapping[str, Any] = field(default_factory=dict)
    custom_sizes: Mapping[str, Any] | None = None


def _rule_of(data: Any) -> _Rule:
    if data is None or data is True:
        return _Rule()
    if data is False:
        return _Rule(refused=True)
    if not isinstance(data, Mapping):
        return _Rule()
    values = data.get("values")
    return _Rule(
        refused=data.get("refused") is True,
        values=tuple(values) if isinstance(values, list) else None,
        default=data.get("default"),
        has_default="default" in data,
        limits={key: data[key] for key in ("min", "max", "max_length") if key in data},
        custom_sizes=dict(data["custom_sizes"]) if isinstance(data.get("custom_sizes"), Mapping) else None,
    )


_CUSTOM_SIZE_DEFAULTS: dict[str, Any] = {
    "multiple_of": 1,
    "min_edge": 1,
    "max_edge": 4096,
    "max_aspect_ratio": None,
    "max_pixels": None,
}


def _field_rule(report: _Report, where: str, old_data: Any, new_data: Any) -> None:
    old, new = _rule_of(old_data), _rule_of(new_data)
    if old.refused != new.refused:
        impact: Impact = "client" if new.refused else "server"
        report.texts(
            impact,
            where,
            "refused",
            "field now refused" if new.refused else "field now taken",
            *_yes_no_values(old.refused, new.refused),
        )
    if not old.refused and not new.refused:
        _rule_values(report, where, old.values, new.values)
        _rule_limits(report, where, old.limits, new.limits)
        _custom_sizes(report, where, old.custom_sizes, new.custom_sizes)
    if (old.has_default, old.default) != (new.has_default, new.default):
        if not old.has_default:
            report.added("server", where, f"default {_text(new.default)}", new=new.default)
        elif not new.has_default:
            report.removed("client", where, f"default {_text(old.default)}", old=old.default)
        else:
            what = f"default changed from {_text(old.default)} to {_text(new.default)}"
            report.changed("client", where, "default", what, old.default, new.default)


def _rule_values(
    report: _Report, where: str, old: tuple[Any, ...] | None, new: tuple[Any, ...] | None
) -> None:
    if old is None and new is None:
        return
    if old is None or new is None:
        impact: Impact = "client" if new is not None else "server"
        was, now = _text(list(old)) if old else "any", _text(list(new)) if new else "any"
        what = f"now limited to {now}" if new is not None else f"no longer limited to {was}"
        report.found.append(_Finding("changed", impact, where, what, "values", old, new, was, now))
        return
    old_keys, new_keys = {_key(v) for v in old}, {_key(v) for v in new}
    for value in old:
        if _key(value) not in new_keys:
            report.removed("client", where, f"value {_text(value)}", old=value)
    for value in new:
        if _key(value) not in old_keys:
            report.added("server", where, f"value {_text(value)}", new=value)


def _rule_limits(report: _Report, where: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    for key, lower in (("min", True), ("max", False), ("max_length", False)):
        _limit(report, where, key, old.get(key), new.get(key), lower=lower)


def _limit(report: _Report, where: str, key: str, was: Any, now: Any, *, lower: bool) -> None:
    """A rule bound: raising a lower bound or lowering an upper one takes less, breaking clients."""
    if was == now:
        return
    if was is None:
        narrowed, what = True, f"{key} {_text(now)} added"
    elif now is None:
        narrowed, what = False, f"{key} {_text(was)} removed"
    else:
        narrowed = now > was if lower else now < was
        what = f"{key} {'raised' if now > was else 'lowered'} from {_text(was)} to {_text(now)}"
    report.changed("client" if narrowed else "server", where, key, what, was, now)


def _custom_sizes(
    report: _Report, where: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> None:
    if old is None and new is None:
        return
    if old is None or new is None:
        impact: Impact = "server" if new is not None else "client"
        if new is not None:
            report.added(impact, where, "custom_sizes", new=dict(new))
        else:
            report.removed(impact, where, "custom_sizes", old=dict(old or {}))
        return
    was, now = {**_CUSTOM_SIZE_DEFAULTS, **old}, {**_CUSTOM_SIZE_DEFAULTS, **new}
    at = f"{where}.custom_sizes"
    _limit(report, at, "min_edge", was["min_edge"], now["min_edge"], lower=True)
    for key in ("max_edge", "max_aspect_ratio", "max_pixels"):
        _limit(report, at, key, was[key], now[key], lower=False)
    if was["multiple_of"] != now["multiple_of"]:
        narrowed, what = _bound_change("multipleOf", was["multiple_of"], now["multiple_of"])
        impact = "client" if narrowed is None or narrowed else "server"
        report.changed(
            impact,
            at,
            "multiple_of",
            what.replace("multipleOf", "multiple_of"),
            was["multiple_of"],
            now["multiple_of"],
        )


def _upload_rule(report: _Report, where: str, old_data: Any, new_data: Any) -> None:
    old_refused, new_refused = old_data is False, new_data is False
    if old_refused != new_refused:
        impact: Impact = "client" if new_refused else "server"
        report.texts(
            impact,
            where,
            "refused",
            "uploads now refused" if new_refused else "uploads now taken",
            *_yes_no_values(old_refused, new_refused),
        )
        return
    old_limits = old_data if isinstance(old_data, Mapping) else None
    new_limits = new_data if isinstance(new_data, Mapping) else None
    if old_limits is None and new_limits is None:
        return
    if old_limits is None or new_limits is None:
        impact = "client" if new_limits is not None else "server"
        was, now = _text(old_limits) if old_limits else "none", _text(new_limits) if new_limits else "none"
        what = "upload limits added" if new_limits is not None else "upload limits removed"
        report.found.append(
            _Finding("changed", impact, where, what, "limits", old_limits, new_limits, was, now)
        )
        return
    _listed_strings(
        report, f"{where}.formats", "format", old_limits.get("formats"), new_limits.get("formats"), "server"
    )
    _limit(report, where, "max_bytes", old_limits.get("max_bytes"), new_limits.get("max_bytes"), lower=False)
    _limit(
        report,
        where,
        "max_count",
        old_limits.get("max_count", 1),
        new_limits.get("max_count", 1),
        lower=False,
    )
    was_square, is_square = bool(old_limits.get("square")), bool(new_limits.get("square"))
    if was_square != is_square:
        impact = "client" if is_square else "server"
        what = "images must now be square" if is_square else "images no longer need to be square"
        report.texts(impact, where, "square", what, *_yes_no_values(was_square, is_square))


def _constraints(report: _Report, where: str, old: list[Any], new: list[Any]) -> None:
    """Constraints keyed by their `when`: one added refuses requests (clients), one removed takes more."""
    old_by, new_by = _by_when(old), _by_when(new)
    for key, item in old_by.items():
        if key not in new_by:
            report.removed(
                "server", f"{where} when {_when_text(item)}", "constraint", old=item.get("require")
            )
    for key, item in new_by.items():
        if key not in old_by:
            report.added("client", f"{where} when {_when_text(item)}", "constraint", new=item.get("require"))
    for key in (key for key in old_by if key in new_by):
        at = f"{where} when {_when_text(new_by[key])}"
        old_require, new_require = old_by[key].get("require") or {}, new_by[key].get("require") or {}
        for name in dict.fromkeys([*old_require, *new_require]):
            if name not in new_require:
                report.removed("server", at, f"requirement on {name}", old=old_require[name])
            elif name not in old_require:
                report.added("client", at, f"requirement on {name}", new=new_require[name])
            else:
                # the values a requirement lists are those it takes: fewer refuse more requests
                _listed_strings(
                    report, f"{at}: {name}", "value", old_require[name], new_require[name], "server"
                )


def _by_when(items: list[Any]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for item in items:
        if isinstance(item, Mapping):
            key = json.dumps(item.get("when"), sort_keys=True, default=str)
            while key in found:
                key += "+"
            found[key] = item
    return found


def _when_text(item: Mapping[str, Any]) -> str:
    when = item.get("when") or {}
    return ", ".join(f"{name}={_text(value, quote=False)}" for name, value in when.items()) or "always"


# ---- models named by the official spec --------------------------------------------------------


def _model_coverage(report: _Report, official: Mapping[str, Any], ours: Mapping[str, Any]) -> None:
    """Each model named in an official operation's `model` enums must have our rules for that operation."""
    rules = (ours.get(RULES_KEY) or {}).get("models") or {}
    names: dict[str, str] = {}
    for name, entry in rules.items():
        names.setdefault(str(name), str(name))
        for alias in (entry or {}).get("aliases") or []:
            names.setdefault(str(alias), str(name))
    official_named = _named_models(_Flattener(official))
    our_ops = _operations(ours)
    for label, named in official_named.items():
        our_op = our_ops.get(label)
        if our_op is None:
            continue  # the operation itself is reported as missing
        for model in named:
            ruled = names.get(model)
            if ruled is None:
                subject = f"no rules in {RULES_KEY}; the official names it for {label}"
                report.found.append(
                    _Finding("removed", "client", f"model {model}", subject, subject, old=model)
                )
            elif our_op.name not in ((rules[ruled] or {}).get("operations") or []):
                alias = f" (alias of {ruled})" if ruled != model else ""
                subject = f"its rules{alias} do not list {our_op.name}; the official names it for {label}"
                report.found.append(
                    _Finding("removed", "client", f"model {model}", subject, subject, old=model)
                )
        named_set = set(named)
        for name, entry in rules.items():
            served = our_op.name in ((entry or {}).get("operations") or [])
            known = {str(name), *((entry or {}).get("aliases") or [])} & named_set
            if served and not known:
                subject = f"serves {our_op.name} in ours; the official does not name it for {label}"
                report.found.append(
                    _Finding("added", "compatible", f"model {name}", subject, subject, new=name)
                )


def _named_models(flat: _Flattener) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for label, operation in _operations(flat.document).items():
        body = flat.expand(operation.raw.get("requestBody") or {})
        named: list[str] = []
        for item in _content(body).values():
            for alt in flat.alternatives(flat.expand(item.get("schema") or {})):
                model = (alt.get("properties") or {}).get("model")
                if model is not None:
                    named.extend(str(value) for value in flat.named_values(model))
        found[label] = list(dict.fromkeys(named))
    return found

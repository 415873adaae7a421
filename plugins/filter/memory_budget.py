"""Memory quantities as Kubernetes parses them, and the onebox memory budget.

Filters (ansible.cfg and molecule point filter_plugins at this directory):

- ``"512Mi" | k8s_quantity_bytes("onebox_memory.workloads.app")`` -> 536870912
- ``"512M" | k8s_quantity_mib("onebox_memory.workloads.app")`` -> 489 (MiB, rounded up)
- ``onebox_memory | memory_budget(ram_mib, microk8s_addons, workloads)`` -> a dict with ``fits``,
  ``total_mib``, ``ram_mib``, ``headroom_mib``, ``rows``, ``table_lines``, ``table`` and
  ``message`` (see ``memory_budget``).

The optional ``name`` argument is the variable the value came from: errors name it, so a
person knows which entry of the inventory to fix.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from ansible.errors import AnsibleFilterError

MIB = 1024 * 1024

# Kubernetes' grammar (k8s.io/apimachinery resource.Quantity): a signed decimal number and one
# suffix: binary (Ki..Ei), decimal (m, "", k, M..E) or a decimal exponent (e3, E6).
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+|m|k|M|G|T|P|E|)$"
)
_MULTIPLIERS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
# resource.Quantity holds at most a signed 64-bit integer.
_MAX_BYTES = 2**63 - 1
# Spellings people write that Kubernetes rejects or reads differently, with the fix to suggest.
_HINTS = {
    "K": "Kubernetes spells kilo 'k' (10^3); use 'Ki' for 2^10",
    "KB": "use 'k' (10^3) or 'Ki' (2^10)",
    "KiB": "drop the 'B': 'Ki'",
    "MB": "use 'M' (10^6) or 'Mi' (2^20)",
    "MiB": "drop the 'B': 'Mi'",
    "GB": "use 'G' (10^9) or 'Gi' (2^30)",
    "GiB": "drop the 'B': 'Gi'",
    "TB": "use 'T' (10^12) or 'Ti' (2^40)",
    "TiB": "drop the 'B': 'Ti'",
    "m": "'m' is milli (10^-3) in Kubernetes, a thousandth of a byte; you probably meant 'Mi'",
}

_PLAN_KEYS = (
    "system_reserved",
    "kube_reserved",
    "eviction_hard",
    "eviction_soft",
    "addons",
    "workloads",
)


def _fail(message: str) -> AnsibleFilterError:
    return AnsibleFilterError(message)


def k8s_quantity_bytes(value: object, name: str = "the quantity") -> int:
    """Bytes in a Kubernetes memory quantity ('512Mi', '1G', '1.5Gi', 2e9, 1048576).

    Fractions of a byte are rounded up, as Kubernetes does. Negative quantities, milli
    quantities and units Kubernetes does not know are refused with a message naming ``name``.
    """
    if isinstance(value, bool) or value is None:
        raise _fail(f"{name}: {value!r} is not a memory quantity (e.g. 512Mi or 2Gi).")
    if isinstance(value, int):
        number, suffix = Decimal(value), ""
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _fail(f"{name}: {value!r} is not a memory quantity (e.g. 512Mi or 2Gi).")
        number, suffix = Decimal(str(value)), ""
    elif isinstance(value, str):
        text = value.strip()
        match = _QUANTITY.match(text)
        if match is None:
            unit = re.sub(r"^[+-]?[0-9.]+", "", text)
            hint = _HINTS.get(unit)
            extra = f" ({hint})" if hint else ""
            raise _fail(
                f"{name}: '{value}' is not a Kubernetes memory quantity{extra}. Write a number "
                "with one of the units Ki, Mi, Gi, Ti (powers of 2), k, M, G, T (powers of 10), "
                "or plain bytes, e.g. 512Mi or 2Gi."
            )
        suffix = match.group("suffix")
        if suffix == "m":
            raise _fail(f"{name}: '{value}' is not a sensible memory size: {_HINTS['m']}.")
        try:
            number = Decimal(match.group("number"))
        except InvalidOperation as error:  # pragma: no cover - the regex admits only numbers
            raise _fail(f"{name}: '{value}' is not a number.") from error
    else:
        raise _fail(
            f"{name}: expected a memory quantity such as 512Mi, got {type(value).__name__} "
            f"{value!r}."
        )
    if number < 0:
        raise _fail(f"{name}: '{value}' is negative; a memory size must be 0 or more.")
    if suffix[:1] in ("e", "E") and len(suffix) > 1:
        scaled = number * (Decimal(10) ** int(suffix[1:]))
    else:
        scaled = number * _MULTIPLIERS[suffix]
    if scaled > _MAX_BYTES:
        raise _fail(f"{name}: '{value}' is larger than Kubernetes can represent.")
    return int(scaled.to_integral_value(rounding=ROUND_CEILING))


def k8s_quantity_mib(value: object, name: str = "the quantity") -> int:
    """Whole MiB in a Kubernetes memory quantity, rounded up ('500M' -> 477)."""
    return -(-k8s_quantity_bytes(value, name) // MIB)


def _mapping(value: object, name: str, *, allow_none: bool = False) -> Mapping:
    if value is None and allow_none:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(f"{name} must be a mapping (name: quantity), got {type(value).__name__}.")
    return value


def _enabled(addons: object, addons_var: str) -> list[str]:
    """Names of the addons switched on in a dict such as microk8s_addons."""
    if addons is None:
        return []
    if isinstance(addons, Mapping):
        enabled = []
        for addon, state in addons.items():
            if not isinstance(state, bool):
                raise _fail(
                    f"{addons_var}.{addon} must be true or false, got {state!r}: the memory "
                    "budget counts an addon's pods only when it is true."
                )
            if state:
                enabled.append(str(addon))
        return enabled
    raise _fail(f"{addons_var} must be a mapping of addon name to true/false, got {addons!r}.")


def memory_budget(
    plan: object,
    ram_mib: object,
    enabled_addons: object = None,
    workloads: object = None,
    plan_var: str = "onebox_memory",
    addons_var: str = "microk8s_addons",
    ram_var: str = "memory_budget_ram_mib",
) -> dict:
    """Add up what the host is planned to hold and compare it with its RAM (swap never counts).

    Counted: the kubelet's system and kube reservations, the larger of the soft and hard
    eviction thresholds (steady state must stay above it), the pods of the CNI (always) and of
    every enabled addon, every workload's memory limit in the plan, and every entry of
    ``workloads``: ``{name, memory, variable}`` set elsewhere (the app's profile), where
    ``variable`` names the place to change it.
    """
    plan = _mapping(plan, plan_var)
    unknown = sorted(set(plan) - set(_PLAN_KEYS))
    if unknown:
        raise _fail(
            f"{plan_var} has unknown entries {unknown}; the memory budget knows "
            f"{list(_PLAN_KEYS)}. A misspelt key would be left out of the sum."
        )
    for key in _PLAN_KEYS:
        if key not in plan and key != "workloads":
            raise _fail(f"{plan_var}.{key} is missing; see playbooks/group_vars/all/memory.yml.")
    if isinstance(ram_mib, bool):
        raise _fail(f"{ram_var} must be the host's RAM in MiB, got {ram_mib!r}.")
    try:
        ram = int(ram_mib)
    except (TypeError, ValueError) as error:
        raise _fail(f"{ram_var} must be the host's RAM in MiB, got {ram_mib!r}.") from error
    if ram <= 0:
        raise _fail(f"{ram_var} must be the host's RAM in MiB (more than 0), got {ram_mib!r}.")

    rows: list[dict] = []

    def add(consumer: str, variable: str, quantity: object) -> None:
        size = k8s_quantity_bytes(quantity, variable)
        rows.append(
            {
                "consumer": consumer,
                "variable": variable,
                "quantity": str(quantity),
                "bytes": size,
                "mib": -(-size // MIB),
            }
        )

    add(
        "OS daemons (kubelet system-reserved)",
        f"{plan_var}.system_reserved",
        plan["system_reserved"],
    )
    add("Kubernetes daemons (kube-reserved)", f"{plan_var}.kube_reserved", plan["kube_reserved"])
    hard = k8s_quantity_bytes(plan["eviction_hard"], f"{plan_var}.eviction_hard")
    soft = k8s_quantity_bytes(plan["eviction_soft"], f"{plan_var}.eviction_soft")
    eviction = "eviction_soft" if soft >= hard else "eviction_hard"
    add(f"kept free: eviction threshold ({eviction[9:]})", f"{plan_var}.{eviction}", plan[eviction])

    addon_sizes = _mapping(plan["addons"], f"{plan_var}.addons")
    counted = ["cni"] + [name for name in _enabled(enabled_addons, addons_var) if name != "cni"]
    for addon in counted:
        if addon not in addon_sizes:
            why = "the CNI is always on" if addon == "cni" else f"{addons_var}.{addon} is true"
            raise _fail(
                f"{plan_var}.addons.{addon} is missing but {why}: add an estimate of its pods' "
                f"memory there (e.g. {addon}: 100Mi) so the budget can count it."
            )
        add(f"addon {addon}", f"{plan_var}.addons.{addon}", addon_sizes[addon])

    planned = _mapping(plan.get("workloads"), f"{plan_var}.workloads", allow_none=True)
    for workload, limit in planned.items():
        add(f"workload {workload} (limit)", f"{plan_var}.workloads.{workload}", limit)
    if workloads is not None and not isinstance(workloads, list):
        raise _fail(f"memory_budget_workloads must be a list, got {type(workloads).__name__}.")
    for index, entry in enumerate(workloads or []):
        if not isinstance(entry, Mapping) or not {"name", "memory", "variable"} <= set(entry):
            raise _fail(
                f"memory_budget_workloads[{index}] must be {{name, memory, variable}}, got "
                f"{entry!r}."
            )
        add(f"workload {entry['name']} (limit)", str(entry["variable"]), entry["memory"])

    total_bytes = sum(row["bytes"] for row in rows)
    total = -(-total_bytes // MIB)
    headroom = ram - total
    fits = total_bytes <= ram * MIB
    lines = _table(rows, total, ram, headroom, fits)
    if fits:
        message = (
            f"The memory plan fits: {total} MiB planned of {ram} MiB RAM, {headroom} MiB to spare."
        )
    else:
        biggest = sorted(
            (row for row in rows if ".eviction_" not in row["variable"]),
            key=lambda row: row["bytes"],
            reverse=True,
        )[:4]
        names = ", ".join(f"{row['variable']} ({row['mib']} MiB)" for row in biggest)
        message = "\n".join(
            [
                f"The memory plan does not fit: it needs {total} MiB but the host has {ram} MiB "
                f"of RAM ({-headroom} MiB over; swap does not count).",
                *lines,
                f"Lower some of: {names}; or switch off an addon in {addons_var}; or give the "
                "VM more RAM. The plan's numbers live in playbooks/group_vars/all/memory.yml "
                "(or the inventory's own onebox_memory), the app's in its profile (onebox_app).",
            ]
        )
    return {
        "fits": fits,
        "ram_mib": ram,
        "total_mib": total,
        "headroom_mib": headroom,
        "rows": rows,
        "table_lines": lines,
        "table": "\n".join(lines),
        "message": message,
    }


def _table(rows: list[dict], total: int, ram: int, headroom: int, fits: bool) -> list[str]:
    width = max(len(row["consumer"]) for row in rows)
    width = max(width, len("RAM (memtotal, swap not counted)"))
    lines = [f"{'consumer':<{width}} {'MiB':>6}  set by", "-" * (width + 40)]
    lines += [f"{row['consumer']:<{width}} {row['mib']:>6}  {row['variable']}" for row in rows]
    lines.append("-" * (width + 40))
    lines.append(f"{'total planned':<{width}} {total:>6}")
    lines.append(f"{'RAM (memtotal, swap not counted)':<{width}} {ram:>6}")
    verdict = "fits" if fits else "DOES NOT FIT"
    lines.append(f"{'headroom':<{width}} {headroom:>6}  {verdict}")
    return lines


class FilterModule:
    """Memory quantity and budget filters."""

    def filters(self) -> dict:
        return {
            "k8s_quantity_bytes": k8s_quantity_bytes,
            "k8s_quantity_mib": k8s_quantity_mib,
            "memory_budget": memory_budget,
        }

"""Rules of the layers that the import contracts (pyproject.toml) cannot see: only the
actions write to the database and publish on the event bus; and, readably, no module below
the schema imports GraphQL."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "graphql_schema", "actions", "realtime", "domain", "models", "infra")
BELOW_THE_SCHEMA = ("actions", "realtime", "domain", "models", "infra")

# Methods of tortoise models and querysets that write, whatever their arguments.
ALWAYS_WRITES = frozenset(
    {
        "bulk_create",
        "bulk_update",
        "get_or_create",
        "update_or_create",
        "select_for_update",
    }
)
# Awaited with keyword arguments only, these are the ORM's: ``await page.save()``,
# ``await Customer.create(name=…)``, ``await Watch.filter(…).delete()``, ``await
# User.filter(…).update(is_active=False)``; a dict's or a header map's update is not awaited,
# and a Redis key's delete names the key.
AWAITED_WRITES = frozenset({"save", "create", "delete", "update"})
RAW_SQL = frozenset(
    {"execute_query", "execute_query_dict", "execute_script", "execute_insert", "execute_many"}
)
SQL_WRITES = frozenset(
    {"INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "TRUNCATE", "CREATE", "DROP", "ALTER"}
)
# Who is on a page is kept in the presence store (memory or Redis): its writers.
PRESENCE_WRITES = frozenset({"renew", "leave", "set_editing"})

# Writers outside actions/, each with the reason it may write.
ALLOWED: dict[str, str] = {
    # the transport itself: EventBus.publish hands an event to broadcaster (memory or Redis)
    "realtime/bus.py": "publish _signal",
    "realtime/_redis.py": "publish",
}


def _publishers() -> frozenset[str]:
    """The event bus's methods that publish (realtime/bus.py): ``publish`` and those that
    call a publishing method of the bus, such as ``presence_changed``."""
    tree = ast.parse((ROOT / "realtime" / "bus.py").read_text())
    (bus,) = (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "EventBus")
    calls = {
        method.name: {
            node.func.attr
            for node in ast.walk(method)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        }
        for method in bus.body
        if isinstance(method, ast.AsyncFunctionDef | ast.FunctionDef)
    }
    publishing = {"publish"}
    while True:
        more = {name for name, called in calls.items() if called & publishing} - publishing
        if not more:
            return frozenset(publishing)
        publishing |= more


PUBLISHES = _publishers()


@dataclass(frozen=True, slots=True)
class Write:
    path: str
    line: int
    call: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.call}"


def _sources(packages: tuple[str, ...]) -> Iterator[tuple[str, ast.Module]]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative:  # schema and data migrations write by design
                continue
            yield relative, ast.parse(path.read_text(), filename=relative)


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level names bound to a string (the SQL a module keeps as constants)."""
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            text = node.value.value
            names = [target.id for target in node.targets if isinstance(target, ast.Name)]
            found.update(dict.fromkeys(names, text) if isinstance(text, str) else {})
    return found


def _text(node: ast.expr, constants: dict[str, str]) -> str:
    """The literal text of a SQL argument, as far as it is written in the module."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(part, constants) for part in node.values if isinstance(part, ast.expr))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _text(node.left, constants) + _text(node.right, constants)
    if isinstance(node, ast.Name):
        return constants.get(node.id, "")
    return ""


def writes(path: str, tree: ast.Module) -> list[Write]:
    """The calls in ``tree`` that write to the database or publish on the bus."""
    awaited = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Await)}
    constants = _constants(tree)
    found: list[Write] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        method = node.func.attr
        receiver = node.func.value
        if method in ALWAYS_WRITES or method in PUBLISHES:
            writer = True
        elif method in PRESENCE_WRITES:
            writer = (isinstance(receiver, ast.Attribute) and receiver.attr == "presence") or (
                isinstance(receiver, ast.Name) and receiver.id == "presence"
            )
        elif method in AWAITED_WRITES:
            writer = id(node) in awaited and not node.args
        elif method in RAW_SQL and node.args:
            words = _text(node.args[0], constants).split(None, 1)
            writer = bool(words) and words[0].upper() in SQL_WRITES
        else:
            writer = False
        if writer:
            found.append(Write(path, node.lineno, ast.unparse(node.func)))
    return found


def test_only_actions_write_to_the_database_or_publish() -> None:
    outside = [
        write
        for path, tree in _sources(PACKAGES)
        if not path.startswith("actions/")
        for write in writes(path, tree)
        if write.call.rsplit(".", 1)[-1] not in ALLOWED.get(path, "").split()
    ]
    assert not outside, "writes outside actions/ (move them into an action):\n" + "\n".join(
        map(str, outside)
    )


def test_the_actions_are_seen_writing() -> None:
    # the scan recognises the writes the actions make, so its silence elsewhere means something
    found = {
        (w.path, w.call.rsplit(".", 1)[-1]) for p, t in _sources(("actions",)) for w in writes(p, t)
    }
    assert ("actions/customers.py", "create") in found
    assert ("actions/search_index.py", "update_or_create") in found
    assert ("actions/search_index.py", "execute_query") in found
    assert ("actions/search_index.py", "delete") in found
    assert any(call == "save" for _, call in found)


@pytest.mark.parametrize(
    ("source", "calls"),
    [
        ("async def f():\n    await Customer.create(name='x')", ["Customer.create"]),
        ("async def f(p):\n    await p.save(update_fields=['title'])", ["p.save"]),
        ("async def f():\n    await Watch.filter(id=1).delete()", ["Watch.filter(id=1).delete"]),
        (
            "async def f():\n    await User.filter(id=1).update(is_active=False)",
            ["User.filter(id=1).update"],
        ),
        ("def f(q):\n    return q.select_for_update()", ["q.select_for_update"]),
        ("async def f(bus):\n    await bus.publish('c', 'm')", ["bus.publish"]),
        ("async def f(bus):\n    await bus.presence_changed(7)", ["bus.presence_changed"]),
        ("async def f(bus, s):\n    await bus.presence.renew(7, s)", ["bus.presence.renew"]),
        ("async def f(bus):\n    await bus.presence.sessions(7)", []),
        ("async def f(c):\n    await c.execute_query('DELETE FROM events')", ["c.execute_query"]),
        (
            "SQL = 'UPDATE users SET x = 1'\nasync def f(c):\n    await c.execute_query(SQL)",
            ["c.execute_query"],
        ),
        ("def f(h, d):\n    h.update(d)\n    h.update(x=1)", []),
        ("async def f(r):\n    await r.delete('key')", []),
        ("async def f(c):\n    await c.execute_query('SELECT 1')", []),
    ],
)
def test_the_scan_tells_writes_from_other_calls(source: str, calls: list[str]) -> None:
    assert [write.call for write in writes("example.py", ast.parse(source))] == calls


def test_nothing_below_the_schema_imports_graphql() -> None:
    imports = []
    for path, tree in _sources(BELOW_THE_SCHEMA):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            imports += [
                f"{path}:{node.lineno}: {name}"
                for name in names
                if name.split(".")[0] in ("graphql", "strawberry")
            ]
    assert not imports, "GraphQL below the schema (raise domain errors instead):\n" + "\n".join(
        imports
    )

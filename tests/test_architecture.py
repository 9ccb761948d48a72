"""No import cycles among the project's modules (issue 15).

The layers, independence and forbidden contracts are checked by `make lint-imports`
([tool.importlinter] in pyproject.toml); this test keeps the stricter module-level rule: no
module reaches itself through its imports, including imports only made for type checking.
"""

from __future__ import annotations

import grimp
import pytest

PACKAGES = ("bot", "actions")


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """One shortest cycle per import that closes one, e.g. ['a', 'b', 'a'] for a <-> b."""
    cycles: dict[frozenset[str], list[str]] = {}
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                cycle = [importer, *back]
                cycles.setdefault(frozenset(cycle), cycle)
    return list(cycles.values())


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def test_the_project_has_no_import_cycle(graph: grimp.ImportGraph) -> None:
    assert {m.split(".")[0] for m in graph.modules} == set(PACKAGES)
    assert len(graph.modules) > 100  # every module was found, bot/dialogue included
    assert import_cycles(graph) == []


def test_a_cycle_is_found_when_one_is_added() -> None:
    cyclic = grimp.build_graph(*PACKAGES, cache_dir=None)
    cyclic.add_import(importer="bot.storage.db", imported="bot.runtime")  # runtime reaches storage.db
    found = import_cycles(cyclic)
    assert found and all(cycle[0] == cycle[-1] for cycle in found)
    assert any({"bot.storage.db", "bot.runtime"} <= set(cycle) for cycle in found)

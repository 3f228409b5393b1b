"""Every test in tests/smoke/ is a smoke check (selected with ``pytest -m smoke``)."""

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/smoke/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.smoke)

"""The one Prometheus duration parser."""

import pytest

from moncheck import durations


@pytest.mark.parametrize(
    "text, ms",
    [("5m", 300_000), ("1h30m", 5_400_000), ("1500ms", 1500), ("1s500ms", 1500), ("4w", 2_419_200_000),
     ("1y", 31_536_000_000), (" 30s ", 30_000), ("0s", 0)],
    ids=lambda v: str(v).strip(),
)
def test_parse(text: str, ms: int) -> None:
    assert durations.parse_ms(text) == ms


@pytest.mark.parametrize("text", ["", "5", "1.5h", "30m1h", "5mm", "-5m", "5 m", None, 300],
                         ids=["empty", "no-unit", "decimal", "out-of-order", "bad-unit", "negative",
                              "space", "none", "number"])
def test_invalid(text: object) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        durations.parse_ms(text)  # type: ignore[arg-type]

"""Bar charts as plain geometry for server-rendered SVG (no JavaScript, no CDN)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    href: str


def bars(
    points: list[tuple[str, float, str, str]], *, width: int = 600, height: int = 120
) -> list[Bar]:
    """points: (label, value, value text, link). Heights scale to the largest value."""
    if not points:
        return []
    top = max(value for _, value, _, _ in points) or 1
    step = width / len(points)
    return [
        Bar(
            x=round(index * step + step * 0.1, 1),
            y=round(height - value / top * height, 1),
            width=round(step * 0.8, 1),
            height=round(value / top * height, 1),
            label=label,
            value=text,
            href=href,
        )
        for index, (label, value, text, href) in enumerate(points)
    ]

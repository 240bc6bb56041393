"""Server-side inline SVG charts (no JavaScript, no styles: presentation attributes pass the strict CSP).

A value of None is a suppressed small count: no bar is drawn, the label says "<11".
"""

import uuid

from markupsafe import Markup, escape

COLOURS = ("#0a558c", "#14632d", "#7a4100", "#9b1c1c")
_W, _H, _PAD, _AXIS = 640, 240, 28, 40


def column_chart(*, title: str, labels: list[str], series: list[tuple[str, list[int | None]]]) -> Markup:
    """Grouped columns, one group per label (e.g. month), one column per series (sent, accepted...)."""
    uid = f"c{uuid.uuid4().hex[:8]}"
    peak = max([v for _, values in series for v in values if v is not None] + [1])
    group_w = (_W - _AXIS) / max(len(labels), 1)
    bar_w = max(group_w / (len(series) + 1), 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {_W} {_H + 40}" width="{_W}" '
        f'height="{_H + 40}" role="img" aria-labelledby="{uid}-t"><title id="{uid}-t">{escape(title)}</title>',
        f'<line x1="{_AXIS}" y1="{_H}" x2="{_W}" y2="{_H}" stroke="#4a4a4a"/>',
    ]
    for gi, label in enumerate(labels):
        x0 = _AXIS + gi * group_w
        for si, (_name, values) in enumerate(series):
            parts.append(_column(x0 + (si + 0.5) * bar_w, bar_w, values[gi], peak, COLOURS[si % len(COLOURS)]))
        parts.append(
            f'<text x="{x0 + group_w / 2:.1f}" y="{_H + 16}" font-size="11" text-anchor="middle">{escape(label)}</text>'
        )
    parts.append(_legend([name for name, _ in series]))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every text above went through escape())


def _column(x: float, width: float, value: int | None, peak: int, colour: str) -> str:
    if value is None:
        return f'<text x="{x + width / 2:.1f}" y="{_H - 4}" font-size="10" text-anchor="middle">&lt;11</text>'
    height = (_H - _PAD) * value / peak
    return (
        f'<rect x="{x:.1f}" y="{_H - height:.1f}" width="{width:.1f}" height="{height:.1f}" fill="{colour}">'
        f"<title>{value}</title></rect>"
    )


def _legend(names: list[str]) -> str:
    items = []
    for i, name in enumerate(names):
        x = _AXIS + i * 130
        items.append(
            f'<rect x="{x}" y="{_H + 26}" width="10" height="10" fill="{COLOURS[i % len(COLOURS)]}"/>'
            f'<text x="{x + 14}" y="{_H + 35}" font-size="11">{escape(name)}</text>'
        )
    return "".join(items)


def rate_bars(*, title: str, rates: list[tuple[str, float | None]], no_data: str = "suppressed or no data") -> Markup:
    """Horizontal bars for percentages (None: suppressed or no data)."""
    uid = f"r{uuid.uuid4().hex[:8]}"
    row_h, label_w, bar_max = 26, 150, 400
    height = row_h * len(rates) + 10
    total_w = label_w + bar_max + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {total_w} {height}" '
        f'width="{total_w}" height="{height}" role="img" aria-labelledby="{uid}-t">',
        f'<title id="{uid}-t">{escape(title)}</title>',
    ]
    for i, (name, rate) in enumerate(rates):
        y = 5 + i * row_h
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{escape(name)}</text>')
        if rate is None:
            parts.append(f'<text x="{label_w}" y="{y + 15}" font-size="12">{escape(no_data)}</text>')
            continue
        width = bar_max * rate
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{width:.1f}" height="16" fill="{COLOURS[0]}"/>'
            f'<text x="{label_w + width + 6:.1f}" y="{y + 15}" font-size="12">{rate:.0%}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every text above went through escape())

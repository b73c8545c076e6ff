"""The QR code flowable draws exactly its modules: every dark run one integer rectangle in module units."""

from __future__ import annotations

import io
import re

from reportlab.pdfgen.canvas import Canvas


def test_qr_rectangles_are_the_modules():
    from dues.documents.pdf import _Qr

    qr = _Qr("upi://pay?pa=acme%40hdfcbank&am=1180.00&cu=INR&tn=INV%2F2627%2F0001")
    canvas = Canvas(io.BytesIO())
    qr.canv = canvas
    qr.draw()
    code = "\n".join(canvas._code)
    size = qr.count + 2 * qr.border
    grid = [[False] * size for _ in range(size)]
    for x, y, w, h in re.findall(r"^(\d+) (\d+) (\d+) (\d+) re$", code, flags=re.M):
        assert h == "1"
        for c in range(int(x), int(x) + int(w)):
            grid[size - 1 - int(y)][c] = True  # PDF y grows upwards
    expected = [[False] * size for _ in range(size)]
    for r, row in enumerate(qr.modules):
        for c, dark in enumerate(row):
            expected[r + qr.border][c + qr.border] = bool(dark)
    assert grid == expected and any(map(any, grid))

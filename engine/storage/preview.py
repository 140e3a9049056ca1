"""Server-side previews of uploaded documents for the school: the first page of a PDF or the
image itself, as a PNG of bounded size, turned by the agent's quarter turns. Nothing of the
file reaches a third-party viewer, and no script of the document ever runs (PDFium renders
pages without JavaScript; images were re-encoded at upload)."""

from __future__ import annotations

import io
from typing import Final

import pypdfium2
from PIL import Image

#: longest side of a preview, in pixels (legible on a laptop, light to send)
PREVIEW_SIZE: Final = 1400


class PreviewError(ValueError):
    """The file cannot be previewed (damaged, or of a kind without preview)."""


def _first_pdf_page(data: bytes) -> Image.Image:
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise PreviewError("unreadable PDF") from exc
    try:
        if len(document) == 0:
            raise PreviewError("empty PDF")
        page = document[0]
        width, height = page.get_size()
        scale = PREVIEW_SIZE / max(width, height, 1)
        image: Image.Image = page.render(scale=scale).to_pil()
        page.close()
        return image
    finally:
        document.close()


def render_preview(data: bytes, mime_type: str, rotation: int = 0) -> bytes:
    """A PNG of the document's first page, turned ``rotation`` quarter turns clockwise."""
    if mime_type == "application/pdf":
        image = _first_pdf_page(data)
    elif mime_type.startswith("image/"):
        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except (OSError, Image.DecompressionBombError) as exc:
            raise PreviewError("unreadable image") from exc
        image.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
    else:
        raise PreviewError(f"no preview for {mime_type}")
    if rotation % 4:
        image = image.rotate(-90 * (rotation % 4), expand=True)
    out = io.BytesIO()
    image.convert("RGB").save(out, "PNG", optimize=False)
    return out.getvalue()

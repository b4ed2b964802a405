"""The PDF exports: what is written can be read back, accents included, on any machine."""

from __future__ import annotations

import io

import pypdf

from intake_service.platform import pdf


def a_document(rows: int = 3) -> pdf.Document:
    return pdf.Document(
        title="Réunion du GPO — cœur de réseau’s",
        subtitle="Séance du 26/11/2026",
        footer="Diffusion restreinte",
        blocks=[
            pdf.Heading("Problème : jets de pierres, ligne 12"),
            pdf.Paragraph("Des jets de pierres visent les bus à l’arrêt Beaucaire, le soir."),
            pdf.Paragraph("Vidéo effacée le 30/11 : réquisition à faire.", strong=True),
            pdf.Facts([("Lieu", "Beaucaire"), ("Natures", "Jet de projectile"), ("Vide", "")]),
            pdf.Table(
                headers=["Semaine", "Incidents", "Liés"],
                rows=[[f"S{index}", str(index), str(index // 2)] for index in range(rows)],
                widths=[2, 1, 1],
            ),
        ],
    )


def text_of(data: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_every_block_is_in_the_text(font: str) -> None:
    data = pdf.render(a_document())
    assert data.startswith(b"%PDF-")
    pages, text = text_of(data)
    assert pages == 1
    for expected in ("Beaucaire", "Jet de projectile", "S2", "Diffusion restreinte", "1/1"):
        assert expected in text
    if font == "unicode font":
        assert "cœur de réseau’s" in text
    else:
        # Outside Latin-1 is spelled out, never an error or a question mark.
        assert "coeur de réseau's" in text


def test_a_long_table_goes_on_over_pages_with_its_headings(font: str) -> None:
    pages, text = text_of(pdf.render(a_document(rows=150)))
    assert pages >= 3
    assert text.count("Semaine") == pages
    assert "S149" in text


def test_a_chart_is_drawn_with_its_caption(font: str) -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200" viewBox="0 0 400 200">'
        '<rect x="10" y="20" width="40" height="170" fill="#1a1a1a"/>'
        '<line x1="0" y1="195" x2="400" y2="195" stroke="#1a1a1a" stroke-dasharray="4 2"/>'
        "</svg>"
    )
    document = pdf.Document(
        title="Évaluation", blocks=[pdf.Chart(svg, caption="Incidents par semaine")]
    )
    data = pdf.render(document)
    pages, text = text_of(data)
    assert pages == 1
    assert "Incidents par semaine" in text
    # The drawing is in the page's content: a filled rectangle and a dashed line.
    without_chart = pdf.render(pdf.Document(title="Évaluation", blocks=[]))
    assert len(data) > len(without_chart) + 200

"""The 公印 on a certificate is the image the city configured (`settings["seal_image"]`, a
reference inside the operator's CITY_ASSETS_DIR); without one — or with a reference that
points outside that folder — the generated seal is drawn and issuing still works."""
from __future__ import annotations

import subprocess
from dataclasses import replace

import pytest
from PIL import Image

from portal.tenancy.models import Municipality
from tests.convenience_issuance.test_pdf import issue, text_of

SEAL_SIZE = (53, 47)  # no other image of the page has this size


def seal_png(path, colour=(200, 16, 32)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", SEAL_SIZE, colour)
    image.putpixel((3, 5), (1, 2, 3))  # a pixel of its own, to recognise the very image
    image.save(path, "PNG")


def images_of(pdf: bytes, tmp_path) -> list[Image.Image]:
    """Every image drawn on the page, extracted by poppler's pdfimages."""
    folder = tmp_path / "images"
    folder.mkdir(exist_ok=True)
    (folder / "c.pdf").write_bytes(pdf)
    subprocess.run(["pdfimages", "-png", str(folder / "c.pdf"), str(folder / "img")], check=True)
    return [Image.open(p).convert("RGB") for p in sorted(folder.glob("img-*.png"))]


def seals_in(pdf: bytes, tmp_path) -> list[Image.Image]:
    return [image for image in images_of(pdf, tmp_path) if image.size == SEAL_SIZE]


def generated_seal_drawn(pdf: bytes, tmp_path) -> bool:
    """The generated seal writes 「南国市長之印」 in columns; 之 and 印 appear nowhere else."""
    text = text_of(pdf, tmp_path)
    return "之" in text and "印" in text


def configure_seal(db, city, reference: str | None) -> None:
    with db.transaction() as s:
        row = s.get(Municipality, city.id)
        settings = dict(row.settings or {})
        settings.pop("seal_image", None)
        if reference is not None:
            settings["seal_image"] = reference
        row.settings = settings


def test_the_configured_seal_image_is_embedded(terminal, hanako, bind_card, db, city, assets,
                                               tmp_path):
    seal_png(assets / "seals" / "392049.png")
    configure_seal(db, city, "seals/392049.png")
    pdf = issue(terminal, bind_card(hanako), "juminhyo")
    (seal,) = seals_in(pdf, tmp_path)
    original = Image.open(assets / "seals" / "392049.png").convert("RGB")
    assert seal.tobytes() == original.tobytes()
    assert "南国市長" in text_of(pdf, tmp_path) and not generated_seal_drawn(pdf, tmp_path)


def test_without_a_configured_seal_the_generated_one_is_drawn(terminal, hanako, bind_card, db,
                                                              city, assets, tmp_path):
    seal_png(assets / "seals" / "392049.png")  # present, but the city does not refer to it
    configure_seal(db, city, None)
    pdf = issue(terminal, bind_card(hanako), "juminhyo")
    assert seals_in(pdf, tmp_path) == []
    assert generated_seal_drawn(pdf, tmp_path)


def test_the_city_seal_takes_precedence_over_the_signing_keys(terminal, hanako, bind_card, db,
                                                              city, keys, municipal_keys,
                                                              assets, tmp_path):
    key_seal = tmp_path / "key-seal.png"
    seal_png(key_seal, colour=(0, 0, 200))
    keys.add("392049", replace(municipal_keys["392049"], seal_image=str(key_seal)))
    seal_png(assets / "seals" / "392049.png", colour=(200, 16, 32))
    configure_seal(db, city, "seals/392049.png")
    (seal,) = seals_in(issue(terminal, bind_card(hanako), "juminhyo"), tmp_path)
    assert seal.getpixel((20, 20)) == (200, 16, 32)


@pytest.mark.parametrize("reference", ["../outside.png", "<absolute>", "seals/missing.png"])
def test_a_bad_reference_is_not_followed_and_issuing_goes_on(reference, terminal, hanako,
                                                             bind_card, db, city, assets,
                                                             tmp_path):
    # Written straight into the settings (as an old or imported database might hold it),
    # past the validation the console and the CLI apply.
    seal_png(assets.parent / "outside.png")
    if reference == "<absolute>":
        reference = str(assets.parent / "outside.png")
    configure_seal(db, city, reference)
    pdf = issue(terminal, bind_card(hanako), "juminhyo")
    assert seals_in(pdf, tmp_path) == []
    assert generated_seal_drawn(pdf, tmp_path)

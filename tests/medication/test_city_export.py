"""A leaving city's medication records also go out as JAHIS text (issue: joint cloud)."""
from __future__ import annotations

from portal.plugins import load_plugins
from services.medication import jahis, services
from tests.medication.jahis_samples import SPEC_EXAMPLE


def test_export_city_writes_each_notebook_as_jahis_text(db, make_city, make_resident, tmp_path):
    city, other = make_city("392049", "南国市"), make_city("392111", "香南市")
    person, stranger = make_resident(city), make_resident(other)
    document = jahis.parse(SPEC_EXAMPLE.encode("cp932")).document
    with db.transaction(city.id) as s:
        services.import_document(s, person.id, document, "text", "test")
    with db.transaction(other.id) as s:
        services.import_document(s, stranger.id, document, "text", "test")

    plugin = load_plugins(["medication"])["medication"]
    with db.transaction() as s:
        paths = plugin.export_city(s, city.id, tmp_path)

    assert [p.name for p in paths] == [f"resident-{person.id}.txt"]  # nobody of 香南市
    exported = jahis.parse(paths[0].read_bytes()).document
    assert [v.dispensed_on for v in exported.visits] == [v.dispensed_on for v in document.visits]
    def drugs(doc):
        return sorted(d.name for v in doc.visits for _, rp in v.all_rps() for d in rp.drugs)
    assert drugs(exported) == drugs(document) and drugs(document)

"""The compact CRL index: serials read from the DER agree with cryptography's parse, for
any order, size and entry shape; index files are shared by workers and never rolled back."""
from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from hypothesis import given, settings, strategies as st

from portal.cards import crlindex
from portal.cards.revocation import CrlStore

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
KEY = ec.generate_private_key(ec.SECP256R1())
NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CRL index test CA")])
CA = (x509.CertificateBuilder().subject_name(NAME).issuer_name(NAME).public_key(KEY.public_key())
      .serial_number(1).not_valid_before(NOW - dt.timedelta(days=1))
      .not_valid_after(NOW + dt.timedelta(days=30)).sign(KEY, hashes.SHA256()))


def crl_der(entries, this_update=NOW) -> bytes:
    builder = (x509.CertificateRevocationListBuilder().issuer_name(NAME)
               .last_update(this_update).next_update(this_update + dt.timedelta(days=1)))
    for serial, padding in entries:
        revoked = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(NOW)
        if padding:   # entries of other shapes, some longer than 127 bytes (long-form length)
            revoked = revoked.add_extension(x509.UnrecognizedExtension(
                x509.ObjectIdentifier("1.2.3.4"), b"\x04" + bytes([padding]) + b"x" * padding), False)
        builder = builder.add_revoked_certificate(revoked.build())
    return builder.sign(KEY, hashes.SHA256()).public_bytes(Encoding.DER)


def table_of(der: bytes) -> crlindex.SerialTable:
    width, table = crlindex.sorted_table(der)
    return crlindex.SerialTable(table, width)


entries = st.lists(st.tuples(st.integers(1, 2**159 - 1) | st.integers(1, 2**40),
                             st.sampled_from([0, 0, 0, 3, 120])),
                   max_size=300, unique_by=lambda e: e[0])


@settings(max_examples=40, deadline=None)
@given(entries, st.lists(st.integers(1, 2**159 - 1), max_size=20))
def test_the_index_lists_exactly_what_cryptography_reads(listed, others):
    der = crl_der(listed)
    expected = {revoked.serial_number for revoked in x509.load_der_x509_crl(der)}
    table = table_of(der)
    assert len(table) == len(expected)
    assert all(serial in table for serial in expected)
    assert not any(serial in table for serial in others if serial not in expected)


def test_a_long_run_of_one_shape_after_others():
    listed = [(7, 120), (2**100, 0)] + [(2**150 + i, 0) for i in range(5000)] + [(3, 3)]
    table = table_of(crl_der(listed))
    assert len(table) == len(listed)
    assert all(serial in table for serial, _ in listed)
    assert 2**150 + 5000 not in table and 2**150 - 1 not in table


def write(tmp_path, name, entries, this_update=NOW):
    path = tmp_path / name
    path.write_bytes(crl_der(entries, this_update))
    return str(path)


def test_workers_share_one_index_and_see_a_refresh_at_once(tmp_path):
    source = write(tmp_path, "ca.crl", [(11, 0)])
    index = tmp_path / "index"
    refresher = CrlStore([source], [CA], cache_dir=index)
    worker = CrlStore([source], [CA], cache_dir=index)      # never fetches anything itself
    refresher.refresh()
    fingerprint = CA.fingerprint(hashes.SHA256())
    assert worker.listed(fingerprint, None, 11) and not worker.listed(fingerprint, None, 12)
    write(tmp_path, "ca.crl", [(11, 0), (12, 0)], NOW + dt.timedelta(minutes=1))
    assert refresher.refresh() [0].endswith(f"next update {(NOW + dt.timedelta(days=1, minutes=1)).isoformat()}")
    assert worker.listed(fingerprint, None, 12)
    assert refresher.refresh() == [f"{source}: unchanged"]


def test_an_older_crl_does_not_replace_a_newer_one(tmp_path):
    newer = write(tmp_path, "mirror-a.crl", [(11, 0)])
    older = write(tmp_path, "mirror-b.crl", [], NOW - dt.timedelta(hours=1))
    store = CrlStore([newer, older], [CA], cache_dir=tmp_path / "index")
    lines = store.refresh()
    assert "older than the CRL held" in lines[1]
    assert store.listed(CA.fingerprint(hashes.SHA256()), None, 11)


def test_a_starting_worker_indexes_only_sources_without_a_fresh_index(tmp_path):
    source = write(tmp_path, "ca.crl", [(11, 0)], NOW - dt.timedelta(days=2))   # stale
    index = tmp_path / "index"
    CrlStore([source], [CA], cache_dir=index).refresh()
    write(tmp_path, "ca.crl", [(11, 0), (12, 0)])                               # fresh
    starting = CrlStore([source], [CA], cache_dir=index)
    assert starting.refresh(missing_only=True)[0].startswith(f"{source}: 2 entries")
    assert starting.refresh(missing_only=True) == [f"{source}: indexed before"]

"""Applet AIDs, file ids and OIDs of the My Number card (see docs: jpki-card.md)."""

JPKI_AID = bytes.fromhex("D392F000260100000001")
CARD_INFO_AID = bytes.fromhex("D39210003100010104" "08")  # 券面事項入力補助AP
# Applets the project never uses; the virtual card answers their SELECT as a real card does.
CARD_CHECK_AID = bytes.fromhex("D39210003100010104" "02")  # 券面事項確認AP
JUKI_AID = bytes.fromhex("D39210003100010104" "01")  # 住基AP

# What a contact reader sees (the one ATR in OpenSC's JPKI driver table, card-jpki.c): T=1,
# so it ends with the TCK check byte (14, the XOR of every byte after TS).
CONTACT_ATR = bytes.fromhex("3BE000FF8131FE4514")

# JPKI AP elementary files
EF_AUTH_CERT = 0x000A
EF_AUTH_CA_CERT = 0x000B
EF_AUTH_KEY = 0x0017
EF_AUTH_PIN = 0x0018
EF_SIGN_CERT = 0x0001
EF_SIGN_CA_CERT = 0x0002
EF_SIGN_KEY = 0x001A
EF_SIGN_PASSWORD = 0x001B
EF_TOKEN_INFO = 0x0006

# Card-info input support AP files this library may touch.  The My Number EF
# of that applet is deliberately not named anywhere in the library.
EF_CARD_INFO_PIN = 0x0011
EF_BASIC_FOUR = 0x0002

TOKEN_LABELS = {
    "JPKIAPICCTOKEN2": "plastic card",
    "JPKIAPICCTOKEN": "old Juki card",
    "JPKIAPGPSETOKEN": "Android",
    "JPKIAPIOSTOKEN": "iPhone",
}

SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")

# Certificate policy and subjectAltName otherName OIDs
OID_AUTH_POLICY = "1.2.392.200149.8.5.1.3.30"
OID_SIGN_POLICY = "1.2.392.200149.8.5.1.1.20"
OID_SAN_NAME = "1.2.392.200149.8.5.5.1"
OID_SAN_NAME_SUBSTITUTES = "1.2.392.200149.8.5.5.2"
OID_SAN_SEX = "1.2.392.200149.8.5.5.3"
OID_SAN_BIRTH_DATE = "1.2.392.200149.8.5.5.4"
OID_SAN_ADDRESS = "1.2.392.200149.8.5.5.5"
OID_SAN_ADDRESS_SUBSTITUTES = "1.2.392.200149.8.5.5.6"

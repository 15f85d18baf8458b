"""The bridge's English counts tries as English does."""
from madoguchi_smartcard.bridge.cardwork import failure


def test_one_try_left_is_singular():
    assert "1 more wrong try will lock it" in failure("wrong_pin", tries_left=1).message_en
    assert "2 more wrong tries will lock it" in failure("wrong_password", tries_left=2).message_en
    assert "あと1回" in failure("wrong_pin", tries_left=1).message_ja

"""License plate numbers: the format, the check character, no repeats."""

from __future__ import annotations

from sync.lpn import ALPHABET, LENGTH, is_lpn, new_lpn


def test_a_plate_is_one_token_of_twenty_crockford_characters_with_a_check_character():
    plate = new_lpn(now=1_800_000_000, random_bits=0x2_0000_0000_0001)
    assert len(plate) == LENGTH == 20 and plate.startswith("LP") and plate.isalnum()
    assert all(ch in ALPHABET for ch in plate[2:]) and not set(plate[2:]) & set("ILOU")
    assert is_lpn(plate) and is_lpn(plate.lower())  # a scanner in lower case still reads it


def test_every_single_wrong_character_and_neighbour_swap_is_caught():
    plate = new_lpn(now=1_800_000_000, random_bits=123456789012345)
    for i in range(2, LENGTH):
        for ch in ALPHABET:
            if ch != plate[i]:
                assert not is_lpn(plate[:i] + ch + plate[i + 1 :]), (i, ch)
    swapped = [plate[:i] + plate[i + 1] + plate[i] + plate[i + 2 :] for i in range(2, LENGTH - 1)]
    caught = [s for s in swapped if s != plate and not is_lpn(s)]
    assert len(caught) >= 0.9 * len([s for s in swapped if s != plate])


def test_plates_sort_by_time_and_do_not_repeat():
    earlier = new_lpn(now=1_800_000_000)
    later = new_lpn(now=1_800_000_001)
    assert earlier[2:9] < later[2:9]
    plates = {new_lpn() for _ in range(20_000)}
    assert len(plates) == 20_000 and all(is_lpn(p) for p in plates)


def test_other_codes_are_not_plates():
    for text in ("RMA-2026-000123", "LP00412345678901", "4006381333931", "", "LP", "LPXXXXXXXXXXXXXXXXXX"):
        assert not is_lpn(text), text

# The firmware-test helpers themselves, on both runtimes (they are what every other test trusts).
import fwtest


def test_repo_path_finds_this_file():
    source = fwtest.read_bytes(fwtest.repo_path("tests", "firmware", "test_fwtest.py"))
    assert b"def test_repo_path_finds_this_file" in source


def test_paths_agree_with_each_other():
    assert fwtest.repo_path("tests", "firmware") == fwtest.FIRMWARE_TESTS_DIR
    assert fwtest.data_path("a.bin") == fwtest.FIRMWARE_TESTS_DIR + "/data/a.bin"


def test_close_to_bounds_are_inclusive():
    assert fwtest.close_to(10, 11, 1)
    assert fwtest.close_to(11, 10, 1)
    assert not fwtest.close_to(10, 12, 1)


def test_assert_close_message_names_values():
    exc = fwtest.raises(AssertionError, fwtest.assert_close, 5, 9, 2, "level")
    assert "level is 5, expected 9 +/- 2" in str(exc)


def test_assert_all_close_names_first_miss():
    fwtest.assert_all_close([1, 2, 3], [1, 3, 3], 1)
    exc = fwtest.raises(AssertionError, fwtest.assert_all_close, [1, 5, 9], [1, 2, 3], 1, "ch")
    assert "ch[1] is 5" in str(exc)
    exc = fwtest.raises(AssertionError, fwtest.assert_all_close, [1], [1, 2], 0)
    assert "1 items, expected 2" in str(exc)


def test_raises_fails_when_nothing_raised():
    try:
        fwtest.raises(ValueError, len, "abc")
    except AssertionError as exc:
        assert "did not raise ValueError" in str(exc)
    else:
        raise AssertionError("raises() accepted a call that raised nothing")


def test_ticks_before_wrap_wraps_under_compat_arithmetic():
    from cuefw.compat import ticks_add, ticks_diff

    start = fwtest.ticks_before_wrap(10)
    later = ticks_add(start, 25)
    assert later == 15
    assert ticks_diff(later, start) == 25

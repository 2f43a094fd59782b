"""The vendored RP2040 images are the ones vendor/rp2040/README.md describes (hash, licences)."""

from __future__ import annotations

import hashlib

from cuenode.emulator.pico import BOOTROM, FIRMWARE_UF2, VENDOR_DIR

EXPECTED = {
    FIRMWARE_UF2: "5daa8e5fcdb37f1d81ff1a720b6c632113a5b11336564c62db7cd0005354cd87",
    BOOTROM: "90b31e108faedfa6bbcfcc33ba05dac61e645108cfbbdc385f8dafc71fde44ae",
}


def test_vendored_images_match_their_provenance() -> None:
    readme = (VENDOR_DIR / "README.md").read_text()
    for path, digest in EXPECTED.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, path.name
        assert digest in readme


def test_every_licence_named_is_shipped() -> None:
    shipped = {p.name for p in (VENDOR_DIR / "licenses").iterdir()}
    for name in ("micropython-MIT", "tinyusb-MIT", "pico-sdk-BSD-3-Clause"):
        assert f"{name}.txt" in shipped
    assert {"pico-bootrom-BSD-3-Clause.txt", "mbedtls-Apache-2.0.txt"} <= shipped

"""cuenode host tooling: validate, compile, emulate and push shows to cuenode nodes."""

__version__ = "0.1.0"

# cuenode firmware: pure modules (no `machine`, no clock reads). Time is passed in as ticks.
VERSION = "0.1.0"

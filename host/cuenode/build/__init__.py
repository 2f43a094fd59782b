"""The build: a validated show compiled into the bytes each node receives, and the node image
(the firmware files that go onto a node of each board family)."""

# HIL jig main.py: serve the host (jigproto.py) until Ctrl-C hands the port to the REPL.
from jigapp import run

run()

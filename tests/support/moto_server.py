"""Starts moto (the AWS emulator) in server mode on a free loopback port, prints the port, and
serves until its standard input closes (the test that started it dropped it or died).

Used by tests/it/collect_moto.rs; run with the project venv's python (`make test` installs moto).
"""
import logging
import sys

from moto.server import ThreadedMotoServer

# No request log on the test output.
logging.getLogger("werkzeug").setLevel(logging.ERROR)

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()

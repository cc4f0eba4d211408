#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Print the files of this Python that ynl's cli.py needs, one per line.

  /usr/bin/python3 scripts/ynl/python-files.py YNL_GUEST_DIR

YNL_GUEST_DIR holds cli.py, lib/ and stw.yaml (what `make check-ynl` puts
in the guest).  Imports cli.py and ynl's lib, parses the spec, and prints
the interpreter and every module file (with its compiled .pyc) that got
loaded, plus the whole encodings package: what scripts/qemu/run.sh copies
into the guest with STW_VM_PYTHON=1, instead of the 50 MB stdlib.
"""

import importlib.util
import os
import sys

ynl = os.path.abspath(sys.argv[1])
sys.path.insert(0, ynl)

# What the guest runs (cli.py, ynl-wait.py), less the netlink socket.
import argparse  # noqa: E402,F401
import json  # noqa: E402,F401
import select  # noqa: E402,F401
import traceback  # noqa: E402,F401

import cli  # noqa: E402,F401
from lib import nlspec  # noqa: E402

nlspec.SpecFamily(os.path.join(ynl, 'stw.yaml'), schema_path='')
# argparse loads gettext, and gettext locale, when it builds a parser.
parser = argparse.ArgumentParser(description='x')
parser.add_argument('--x', type=int)
parser.format_help()
parser.parse_args(['--x', '1'])
json.dumps({'a': [1]})

roots = [os.path.dirname(os.__file__), '/usr/lib/python3/dist-packages']
files = {os.path.realpath(sys.executable)}


def add(path):
    if not path or not any(path.startswith(r + '/') for r in roots):
        return
    files.add(path)
    if path.endswith('.py'):
        pyc = importlib.util.cache_from_source(path)
        if os.path.exists(pyc):
            files.add(pyc)


for mod in list(sys.modules.values()):
    add(getattr(mod, '__file__', None))
enc = os.path.dirname(sys.modules['encodings'].__file__)
for name in os.listdir(enc):
    if name.endswith('.py'):
        add(os.path.join(enc, name))
# The stdlib's landmark, by which the interpreter finds its prefix.
add(os.__file__)

for path in sorted(files):
    print(path)

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""ynl's cli.py --do, then wait for a notification to the same socket.

  ynl-wait.py --spec SPEC --do OP [--json JSON] --wait NTF [--timeout SEC]

Prints the reply, then the notifications read (JSON, one line each), and
exits 0 once NTF came, 1 on an error reply, 2 if NTF did not come in time.

6.12's cli.py cannot wait for a completion (stw's done-ntf, sent to the
requesting socket after the reply): its --sleep is before the request, and
it reads notifications once, without waiting, after it, and only with
--subscribe, which also joins a multicast group whose notifications, when
one arrives between the reply and the ACK, crash its request loop.  This
does what cli.py --do does with ynl's own YnlFamily, then polls its socket.
"""

import argparse
import json
import os
import select
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import YnlFamily, NlError  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--spec', required=True)
    ap.add_argument('--do', required=True)
    ap.add_argument('--json', default='{}')
    ap.add_argument('--wait', required=True)
    ap.add_argument('--timeout', type=float, default=30)
    args = ap.parse_args()

    ynl = YnlFamily(args.spec, '')
    try:
        reply = ynl.do(args.do, json.loads(args.json))
    except NlError as e:
        print(e)
        return 1
    print(json.dumps(reply))
    deadline = time.monotonic() + args.timeout
    while not any(m['name'] == args.wait for m in ynl.async_msg_queue):
        left = deadline - time.monotonic()
        if left <= 0:
            print(json.dumps(ynl.async_msg_queue))
            print(f'no {args.wait} within {args.timeout} s')
            return 2
        select.select([ynl.sock], [], [], left)
        ynl.check_ntf()
    print(json.dumps(ynl.async_msg_queue))
    return 0


if __name__ == '__main__':
    sys.exit(main())

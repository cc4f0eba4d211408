#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""ynl's cli.py --do, then wait for a notification to the same socket.

  ynl-wait.py --spec SPEC --do OP [--json JSON] --wait NTF [--timeout SEC]
  ynl-wait.py --spec SPEC --subscribe GROUP --wait NTF [--count N]
              [--timeout SEC]

Prints the reply, then the notifications read (JSON, one line each), and
exits 0 once NTF came (N times), 1 on an error reply, 2 if it did not come
in time.  With --subscribe and no --do it is a listener that stops as soon
as it has what the caller waits for, not after a fixed sleep.

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
    ap.add_argument('--do')
    ap.add_argument('--subscribe')
    ap.add_argument('--count', type=int, default=1)
    ap.add_argument('--json', default='{}')
    ap.add_argument('--wait', required=True)
    ap.add_argument('--timeout', type=float, default=30)
    args = ap.parse_args()

    if not args.do and not args.subscribe:
        ap.error('give --do, --subscribe or both')
    ynl = YnlFamily(args.spec, '')
    if args.subscribe:
        ynl.ntf_subscribe(args.subscribe)
        print('subscribed', flush=True)
    if args.do:
        try:
            reply = ynl.do(args.do, json.loads(args.json))
        except NlError as e:
            print(e)
            return 1
        print(json.dumps(reply), flush=True)
    deadline = time.monotonic() + args.timeout
    seen = 0
    while True:
        ynl.check_ntf()
        while ynl.async_msg_queue:
            msg = ynl.async_msg_queue.pop(0)
            print(json.dumps(msg), flush=True)
            if msg['name'] == args.wait:
                seen += 1
        if seen >= args.count:
            return 0
        left = deadline - time.monotonic()
        if left <= 0:
            print(f'{seen} {args.wait} of {args.count} within '
                  f'{args.timeout} s')
            return 2
        select.select([ynl.sock], [], [], left)


if __name__ == '__main__':
    sys.exit(main())

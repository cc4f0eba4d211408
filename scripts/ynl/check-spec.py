#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check Documentation/netlink/specs/stw.yaml against YNL and uapi/stw.h.

  scripts/ynl/check-spec.py --ynl YNL_DIR [--spec SPEC] [--uapi HEADER]
                            [--out DIR]

YNL_DIR is the kernel tree part that scripts/ynl/get-ynl.sh extracts
(tools/net/ynl and Documentation/netlink of linux-source-6.12).

1. The spec validates against YNL_DIR's genetlink-legacy schema.
2. ynl-gen-c.py --mode uapi generates a header from it (DIR/stw-gen.h).
3. Every constant of either header (defines, enum values, attribute and
   command numbers, the _MAX and __*_MAX ones) is in the other with the
   same value, and every named enum type of uapi/stw.h is in the generated
   one: a C program built once against each header prints them, and the
   two outputs must be equal.  Only STW_CMD_UNSPEC (0) may be missing from
   the generated header: YNL numbers operations from 1 and names no 0.

Prints TAP and 'N passed, N failed, 0 skipped'; exits 1 if anything failed.
"""

import argparse
import os
import re
import subprocess
import sys

import jsonschema
import yaml

# In uapi/stw.h only, with the value each must have.
ONLY_IN_UAPI = {'STW_CMD_UNSPEC': 0}

results = []


def report(ok, what, detail=''):
    results.append(ok)
    print(f"{'ok' if ok else 'not ok'} {len(results)} {what}")
    for line in detail.splitlines():
        print(f"# {line}")


def validate(spec_path, ynl):
    spec = yaml.safe_load(open(spec_path))
    proto = spec.get('protocol', 'genetlink')
    schema_path = os.path.join(ynl, 'Documentation/netlink', proto + '.yaml')
    schema = yaml.safe_load(open(schema_path))
    try:
        jsonschema.validate(spec, schema)
    except jsonschema.ValidationError as e:
        report(False, f'spec validates against the 6.12 {proto} schema',
               f'{e.message}\nat {"/".join(map(str, e.absolute_path))}')
        return None
    report(True, f'spec validates against the 6.12 {proto} schema')
    return spec


def for_generator(spec):
    """The spec as 6.12's ynl-gen-c.py takes it.

    Its C generator knows indexed-array only of nests (ynl.py decodes any
    sub-type, the schema allows any): the u64 arrays become binary, which
    changes nothing in the uapi header (an attribute's type is not in it).
    """
    for aset in spec['attribute-sets']:
        for attr in aset['attributes']:
            if attr.get('type') == 'indexed-array' and \
               attr.get('sub-type') != 'nest':
                attr['type'] = 'binary'
                del attr['sub-type']
    return spec


def generate(spec, ynl, out):
    # ynl-gen-c.py looks for the schema next to the spec's folder and for
    # the tree's root (MAINTAINERS) above it: the spec goes into YNL_DIR.
    gen_spec = os.path.abspath(os.path.join(
        ynl, 'Documentation/netlink/specs', spec['name'] + '.yaml'))
    with open(gen_spec, 'w') as f:
        f.write('# SPDX-License-Identifier: ' +
                '((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)\n')
        yaml.safe_dump(for_generator(spec), f, sort_keys=False)
    header = os.path.join(out, spec['name'] + '-gen.h')
    cmd = [sys.executable, os.path.join(ynl, 'tools/net/ynl/ynl-gen-c.py'),
           '--mode', 'uapi', '--header', '--spec', gen_spec, '-o', header]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    ok = p.returncode == 0 and os.path.exists(header)
    report(ok, 'ynl-gen-c.py --mode uapi generates a header',
           '' if ok else p.stdout + p.stderr)
    return header if ok else None


def names(path):
    """Constants and enum tags a header defines, comments left out."""
    text = re.sub(r'/\*.*?\*/', '', open(path).read(), flags=re.S)
    consts = set(re.findall(r'\b(?:__)?STW_[A-Z0-9_]+\b', text))
    tags = set(re.findall(r'\benum\s+(\w+)\s*\{', text))
    return consts, tags


PROGRAM = r'''
#include <stdio.h>
#include "%s"
static void num(const char *n, long long v) { printf("%%s %%lld\n", n, v); }
static void str(const char *n, const char *v) { printf("%%s \"%%s\"\n", n, v); }
#define P(x) _Generic((x) + 0, char *: str, const char *: str, \
		      default: num)(#x, (x))
int main(void)
{
%s
	return 0;
}
'''


def values(header, consts, tags, out, tag):
    body = ''.join(f'\t(void)sizeof(enum {t});\n' for t in sorted(tags))
    body += ''.join(f'\tP({c});\n' for c in sorted(consts))
    src = os.path.join(out, f'consts-{tag}.c')
    exe = os.path.join(out, f'consts-{tag}')
    with open(src, 'w') as f:
        f.write(PROGRAM % (os.path.abspath(header), body))
    cc = os.environ.get('CC', 'cc')
    p = subprocess.run([cc, '-std=gnu11', '-Wall', '-Werror', '-o', exe, src],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr
    p = subprocess.run([exe], capture_output=True, text=True, check=True)
    return p.stdout.splitlines(), ''


def compare(uapi, gen, out):
    u_consts, u_tags = names(uapi)
    g_consts, g_tags = names(gen)
    # The generated guard is _UAPI_LINUX_STW_H, ours _UAPI_STW_H: neither
    # matches the pattern (no word boundary before STW).
    only_u = u_consts - g_consts
    only_g = g_consts - u_consts
    bad = sorted((only_u - set(ONLY_IN_UAPI)) | only_g)
    report(not bad, 'the generated header and uapi/stw.h name the same '
           f'{len(u_consts & g_consts)} constants',
           ''.join(f'{n}: only in {"uapi" if n in only_u else "generated"}\n'
                   for n in bad))
    missing_tags = sorted(u_tags - g_tags)
    report(not missing_tags, f'the generated header has the {len(u_tags)} '
           'enum types of uapi/stw.h', ' '.join(missing_tags))

    common = u_consts & g_consts
    u_vals, err = values(uapi, common | (only_u & set(ONLY_IN_UAPI)),
                         u_tags, out, 'uapi')
    if u_vals is None:
        report(False, 'uapi/stw.h: the values compile', err)
        return
    g_vals, err = values(gen, common, u_tags & g_tags, out, 'gen')
    if g_vals is None:
        report(False, 'generated header: the values compile', err)
        return
    u_map = dict(line.split(' ', 1) for line in u_vals)
    g_map = dict(line.split(' ', 1) for line in g_vals)
    diff = [f'{n}: uapi {u_map[n]}, spec {g_map[n]}'
            for n in sorted(common) if u_map[n] != g_map[n]]
    report(not diff, f'{len(common)} constants have the same value in both',
           '\n'.join(diff))
    wrong = [f'{n} = {u_map.get(n)}, not {v}'
             for n, v in ONLY_IN_UAPI.items()
             if n in only_u and u_map.get(n) != str(v)]
    report(not wrong, 'what only uapi/stw.h names has its expected value',
           '\n'.join(wrong))


def main():
    top = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--ynl', required=True)
    ap.add_argument('--spec', default=os.path.join(
        top, 'Documentation/netlink/specs/stw.yaml'))
    ap.add_argument('--uapi', default=os.path.join(top, 'uapi/stw.h'))
    ap.add_argument('--out', default=None)
    args = ap.parse_args()
    out = args.out or args.ynl
    os.makedirs(out, exist_ok=True)

    spec = validate(args.spec, args.ynl)
    if spec:
        header = generate(spec, args.ynl, out)
        if header:
            compare(args.uapi, header, out)
    failed = results.count(False)
    print(f'{len(results) - failed} passed, {failed} failed, 0 skipped')
    return 1 if failed or not results else 0


if __name__ == '__main__':
    sys.exit(main())

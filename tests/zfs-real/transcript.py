#!/usr/bin/env python3
# Transcripts of zfs calls (tests/transcripts/VERSION/*.txt), as
# record-transcripts.sh and zfs-record write them:
#     $ zfs ARG...          (bash printf %q quoting)
#     note TEXT             (optional)
#     status N
#     stdout BYTES, then BYTES bytes and a newline
#     stderr BYTES, the same
#     (an empty line)
# Lines starting with '#' before a record are comments.
#
#   transcript.py replay FILE     replays FILE against tests/zfs-double from
#                                 empty pools tank and other, the double
#                                 set to the version in the zfs-version file
#                                 beside FILE; prints one
#                                 "ok - "/"not ok - " line per call; exit 1
#                                 on any difference
#   (qvm-suite-calls.txt: qvm's and the suite's own calls in the real-ZFS
#   suite, with the pool small as well, normalised on both sides.)
#   transcript.py same KEPT NEW   compares two recordings as a replay
#                                 would; exit 1 on a difference
#   transcript.py normalise FILE  prints FILE with what varies from run to
#                                 run (times, run marks, temporary paths,
#                                 space used) replaced by fixed words
#
# A replay compares what qvm reads: the exit status, stdout, and stderr up
# to a "usage:" line (zfs's usage text after an error is not compared).
# Lists real zfs prints in hash order (a snapshot's "clones", the datasets
# a refused destroy names) are compared as sets.
import os
import re
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOUBLE = os.path.join(ROOT, 'tests', 'zfs-double')


def parse(path):
    data = open(path, 'rb').read()
    pos, recs = 0, []

    def line():
        nonlocal pos
        end = data.index(b'\n', pos)
        s = data[pos:end].decode()
        pos = end + 1
        return s

    def block(word):
        nonlocal pos
        head = line()
        if not head.startswith(word + ' '):
            raise ValueError('%s: expected "%s N" at byte %d, got %r'
                             % (path, word, pos, head))
        n = int(head.split(' ', 1)[1])
        body = data[pos:pos + n]
        pos += n
        if data[pos:pos + 1] != b'\n':
            raise ValueError('%s: %s block not ended by a newline' % (path, word))
        pos += 1
        return body.decode()

    while pos < len(data):
        s = line()
        if s == '' or s.startswith('#'):
            continue
        if not s.startswith('$ '):
            raise ValueError('%s: expected "$ zfs ...", got %r' % (path, s))
        rec = {'argv': shlex.split(s[2:]), 'cmd': s[2:], 'note': None}
        s = line()
        if s.startswith('note '):
            rec['note'] = s[5:]
            s = line()
        if not s.startswith('status '):
            raise ValueError('%s: expected "status N", got %r' % (path, s))
        rec['status'] = int(s[7:])
        rec['stdout'] = block('stdout')
        rec['stderr'] = block('stderr')
        recs.append(rec)
    return recs


def emit(rec):
    out = ['$ ' + rec['cmd'] + '\n']
    if rec['note']:
        out.append('note %s\n' % rec['note'])
    out.append('status %d\n' % rec['status'])
    for k in ('stdout', 'stderr'):
        b = rec[k].encode()
        out.append('%s %d\n' % (k, len(b)) + rec[k] + '\n')
    return ''.join(out) + '\n'


VARYING = {'used', 'creation', 'referenced', 'available', 'avail',
           'logicalreferenced', 'logicalused', 'usedbydataset',
           'qvm:created', 'qvm:run', 'written', 'refer', 'guid',
           'createtxg', 'objsetid'}


def normalise(rec):
    sub = [(r'/tmp/qvm-it\.[A-Za-z0-9]+', '/tmp/qvm-it.WORK'),
           (r'(qvm:created=)[^ ]+', r'\1TIME'),
           (r'(qvm:run=)[0-9a-f]+', r'\1RUN')]
    for pat, rep in sub:
        rec['cmd'] = re.sub(pat, rep, rec['cmd'])
        rec['stdout'] = re.sub(pat, rep, rec['stdout'])
        rec['stderr'] = re.sub(pat, rep, rec['stderr'])
    argv = rec['argv']
    if len(argv) > 1 and argv[1] == 'list' and '-o' not in argv:
        # The default columns are space used and available.
        rec['stdout'] = ''.join('VARIES\n'
                                for _ in rec['stdout'].splitlines())
    if len(argv) > 1 and argv[1] in ('get', 'list') and '-o' in argv:
        i = argv.index('-o')
        if argv[1] == 'get':
            props = argv[i + 2].split(',') if i + 2 < len(argv) else []
            cols = argv[i + 1].split(',')
            if any(p in VARYING for p in props) and cols == ['value']:
                rec['stdout'] = ''.join(
                    'VARIES\n' for _ in rec['stdout'].splitlines())
        else:
            cols = argv[i + 1].split(',')
            lines = []
            for l in rec['stdout'].splitlines():
                f = l.split('\t')
                if len(f) == len(cols):
                    f = ['VARIES' if c in VARYING else v
                         for c, v in zip(cols, f)]
                lines.append('\t'.join(f) + '\n')
            rec['stdout'] = ''.join(lines)
    rec['argv'] = shlex.split(rec['cmd'])
    return rec


# Failures real ZFS gives that the double cannot know of by itself (a
# device held open, the pool's space): in qvm-suite-calls.txt, the double
# is told to fail the same way, so that the states stay the same.
UNMODELLED = ("dataset is busy", "out of space")


def compared(stderr):
    """stderr up to zfs's usage text, with the dependents a destroy lists
    sorted (real zfs lists them in its ZAP's hash order)."""
    keep, deps = [], None
    for l in stderr.split('\n'):
        if l.startswith('usage:'):
            break
        if deps is not None and l and ' ' not in l:
            deps.append(l)
            continue
        if deps:
            keep += sorted(deps)
        deps = [] if l.endswith('to destroy the following datasets:') else None
        keep.append(l)
    if deps:
        keep += sorted(deps)
    return '\n'.join(keep)


def stdout_compared(argv, stdout):
    """stdout; the value of "clones" (hash order in real zfs) sorted."""
    if len(argv) > 4 and argv[1] == 'get' and 'clones' in argv[-2].split(','):
        return '\n'.join(','.join(sorted(l.split(','))) if l != '-' else l
                         for l in stdout.split('\n'))
    return stdout


def replay(path):
    recs = parse(path)
    name = os.path.relpath(path, ROOT)
    bad = 0
    with tempfile.TemporaryDirectory(prefix='qvm-replay.') as tmp:
        env = dict(os.environ, ZFS_DOUBLE_DIR=os.path.join(tmp, 'state'),
                   QVM_ZVOL_DIR=os.path.join(tmp, 'dev'), LC_ALL='C')
        os.mkdir(env['ZFS_DOUBLE_DIR'])
        os.mkdir(env['QVM_ZVOL_DIR'])
        # qvm's own calls in the real-ZFS suite also use the pool small.
        suite = os.path.basename(path) == 'qvm-suite-calls.txt'
        with open(os.path.join(env['ZFS_DOUBLE_DIR'], 'pools'), 'w') as f:
            f.write('tank\nother\nsmall\n' if suite else 'tank\nother\n')
        # The double behaves as the version the transcript was made with.
        m = re.match(r'zfs-(\d+\.\d+(\.\d+)?)', open(os.path.join(
            os.path.dirname(path), 'zfs-version')).read())
        if not m:
            raise ValueError('%s: no zfs-version beside it' % path)
        with open(os.path.join(env['ZFS_DOUBLE_DIR'], 'version'), 'w') as f:
            f.write(m.group(1) + '\n')
        for n, rec in enumerate(recs, 1):
            if rec['argv'][0] != 'zfs':
                raise ValueError('%s: not a zfs call: %s' % (path, rec['cmd']))
            if rec['argv'][1:2] == ['version']:
                continue
            injected = suite and rec['status'] != 0 and \
                any(m in rec['stderr'] for m in UNMODELLED)
            if injected:
                # What the double cannot know (a device held open): told.
                with open(os.path.join(env['ZFS_DOUBLE_DIR'], 'fail'),
                          'a') as f:
                    f.write('%s\t%s\t%d\t%s\n' % (
                        rec['argv'][1], rec['argv'][-1], rec['status'],
                        rec['stderr'].rstrip('\n').replace('\n', '\\n')))
            p = subprocess.run([sys.executable, '-S', DOUBLE] + rec['argv'][1:],
                               env=env, stdin=subprocess.DEVNULL,
                               capture_output=True)
            got = {'status': p.returncode if p.returncode >= 0
                   else 128 - p.returncode,
                   'stdout': p.stdout.decode(), 'stderr': p.stderr.decode(),
                   'cmd': rec['cmd'], 'argv': rec['argv'], 'note': None}
            if suite:
                got = normalise(got)
            if injected and rec['argv'][1] == 'clone' and \
                    'out of space' in rec['stderr']:
                # Real zfs made the clone, then failed to give it its
                # refreservation, and left it (qvm finds it by qvm:run).
                argv, i = [], 2
                while i < len(rec['argv']):
                    a = rec['argv'][i]
                    if a == '-o' and rec['argv'][i + 1].split('=')[0] in \
                            ('volsize', 'refreservation'):
                        i += 2
                        continue
                    argv.append(a)
                    i += 1
                subprocess.run([sys.executable, '-S', DOUBLE, 'clone'] + argv,
                               env=env, stdin=subprocess.DEVNULL, check=True)
            diffs = []
            if got['status'] != rec['status']:
                diffs.append('status %d, real zfs %d'
                             % (got['status'], rec['status']))
            if stdout_compared(rec['argv'], got['stdout']) != \
                    stdout_compared(rec['argv'], rec['stdout']):
                diffs.append('stdout %r\n#   real zfs %r'
                             % (got['stdout'], rec['stdout']))
            if compared(got['stderr']) != compared(rec['stderr']):
                diffs.append('stderr %r\n#   real zfs %r'
                             % (compared(got['stderr']),
                                compared(rec['stderr'])))
            what = '%s #%d: %s%s' % (name, n, rec['cmd'],
                                     ' (failure injected)' if injected else '')
            if diffs:
                bad += 1
                print('not ok - ' + what)
                for d in diffs:
                    print('#   ' + d)
            else:
                print('ok - ' + what)
    return bad


def same(kept, new):
    """Prints where two recordings of one scenario differ in what the
    replay compares; returns how many calls differ."""
    a, b = parse(kept), parse(new)
    bad = 0
    if [r['cmd'] for r in a] != [r['cmd'] for r in b]:
        print('%s: not the same calls as %s' % (new, kept))
        return 1
    for n, (x, y) in enumerate(zip(a, b), 1):
        if x['status'] != y['status'] or \
                stdout_compared(x['argv'], x['stdout']) != \
                stdout_compared(y['argv'], y['stdout']) or \
                compared(x['stderr']) != compared(y['stderr']):
            bad += 1
            print('%s #%d: %s\n  kept: %r\n  now:  %r'
                  % (os.path.basename(kept), n, x['cmd'],
                     (x['status'], x['stdout'], x['stderr']),
                     (y['status'], y['stdout'], y['stderr'])))
    return bad


def main(argv):
    if len(argv) == 3 and argv[1] == 'replay':
        return 1 if replay(argv[2]) else 0
    if len(argv) == 4 and argv[1] == 'same':
        return 1 if same(argv[2], argv[3]) else 0
    if len(argv) == 3 and argv[1] == 'normalise':
        for rec in parse(argv[2]):
            sys.stdout.write(emit(normalise(rec)))
        return 0
    sys.stderr.write('usage: transcript.py replay|normalise FILE | same KEPT NEW\n')
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))

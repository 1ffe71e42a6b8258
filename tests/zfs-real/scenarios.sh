# The zfs calls whose transcripts the double must reproduce: every claim of
# tests/integration/test_zfs_double.sh that real OpenZFS can show on small
# pools, and every shape of call qvm makes (src/zfs.c). Sourced by
# record-transcripts.sh (in the real-ZFS guest: pools "tank" and "other")
# with z() recording one call; "section NAME" starts a new transcript from
# empty pools. Only z() may change the pools, so that a replay against the
# double (tests/integration/test_transcripts.sh) reaches the same states.
# Sizes are small: the pools are 1 GiB (tank) and 256 MiB (other).

section environment
z zfs frobnicate
z zfs list -H -o name
z zfs list -Z

section create
z zfs create tank/vms
z zfs list -H -o name,type tank/vms
z zfs create -V 64M tank/vms/web1
z zfs get -Hp -o value volsize,refreservation,volblocksize tank/vms/web1
z zfs get -H -o value volsize,volblocksize,type,origin tank/vms/web1
z zfs get volsize tank/vms/web1
z zfs get -H volblocksize,qvm:none tank/vms/web1
z zfs create tank/r
z zfs create -s -V 1000 tank/r/v1000
z zfs create -s -V 1.5G tank/r/v1.5G
z zfs create -s -V 10m tank/r/v10m
z zfs create -s -V 1GiB tank/r/v1GiB
z zfs create -s -V 1gb tank/r/v1gb
z zfs create -s -V 16385 tank/r/v16385
z zfs get -Hp -o name,value -t volume volsize -r tank/r
z zfs create -s -V 100K -b 64K tank/r/b64
z zfs get -Hp -o value volsize,volblocksize tank/r/b64
z zfs destroy -r tank/r
z zfs create -s -V 1G tank/vms/sp
z zfs get -H -o value,source refreservation tank/vms/sp
z zfs get -Hp -o value refreservation tank/vms/sp
z zfs create -V 64M -o refreservation=none tank/vms/sp2
z zfs get -Hp -o value refreservation tank/vms/sp2
z zfs create -s -V 1G -b 8K tank/vms/b8
z zfs get -Hp -o value volblocksize tank/vms/b8
z zfs create -s -V 1G -b 3000 tank/vms/b2
z zfs create -s -V 1G -o volblocksize=256K tank/vms/b2
z zfs create -s -V 1G -b abc tank/vms/b2
z zfs create -V 0 tank/vms/z
z zfs create -V abc tank/vms/z
z zfs create -V 10Q tank/vms/z
z zfs create -V 99999999999999999999 tank/vms/z
z zfs create -V 1G nopool/x
z zfs create nopool/x
z zfs create -V 1G tank/a/b
z zfs create tank/a/b
z zfs create -V 1G tank/vms/web1/x
z zfs create -p -s -V 1G tank/p1/p2/vol
z zfs list -H -o name,type -r tank/p1
z zfs create -V 1G tank/vms/web1
z zfs create tank/vms
z zfs create -p -V 1G tank/vms/web1
z zfs create -V 1G 'tank/a*b'
z zfs create tank/x/
z zfs create tank//x
z zfs create /tank/x
z zfs create tank/x@s
z zfs create -V 1G -o qvm:role=a -o qvm:role=b tank/vms/d
z zfs create -V 1G -o foo=bar tank/vms/d
z zfs create -V 1G -o mountpoint=/x tank/vms/d
z zfs create -V 1G -o used=1 tank/vms/d
z zfs create -V 1G -o novalue tank/vms/d
z zfs list -H -o name tank/vms/d
z zfs create -Z tank/vms/d
z zfs create -V
z zfs create -V 1G
z zfs create -s tank/fs
z zfs create -V 1G tank/vms/d1 tank/vms/d2
z zfs create -V 64M -o qvm:role=image -o compress=lz4 tank/vms/img
z zfs get -H -o property,value,source qvm:role,compression tank/vms/img
z zfs set qvm:pool=yes tank/vms
z zfs get -H -o value,source qvm:pool tank/vms/img
z zfs create -o mountpoint=none tank/fs1
z zfs create tank/fs1/c
z zfs get -H -o name,value,source mountpoint tank/fs1 tank/fs1/c tank/vms

section snapshot-clone-destroy
z zfs create tank/vms
z zfs create -V 64M tank/vms/web1
z zfs snapshot tank/vms/web1@base
z zfs snapshot tank/vms/web1@base
z zfs snapshot tank/nope@x
z zfs snapshot tank/vms/web1
z zfs snapshot 'tank/vms/web1@a*b'
z zfs snapshot -o compression=off tank/vms/web1@c
z zfs snapshot -o qvm:note=x tank/vms/web1@u
z zfs get -H -o value,source qvm:note,type,volsize tank/vms/web1@u
z zfs snapshot tank/vms/web1@u tank/vms/web1@u2
z zfs clone tank/vms/web1@base tank/vms/c1
z zfs get -H -o value origin,volsize,refreservation tank/vms/c1
z zfs get -H -o value clones tank/vms/web1@base
z zfs get -H -o value clones tank/vms/web1@u
z zfs clone -o volsize=96M -o qvm:role=vm -o refreservation=auto tank/vms/web1@base tank/vms/c2
z zfs get -Hp -o value volsize,refreservation,qvm:role tank/vms/c2
z zfs clone tank/vms/web1 tank/vms/c3
z zfs clone tank/vms/web1@nope tank/vms/c3
z zfs clone tank/vms/web1@base tank/vms/c1
z zfs clone tank/vms/web1@base other/c
z zfs clone tank/vms/web1@base tank/nope/c
z zfs clone -o volblocksize=8K tank/vms/web1@base tank/vms/c3
z zfs clone -o volsize=1000 tank/vms/web1@base tank/vms/c3
z zfs clone -o qvm:a=1 -o qvm:a=2 tank/vms/web1@base tank/vms/c3
z zfs clone tank/vms/web1@base
z zfs clone -p tank/vms/web1@base tank/deep/er/c3
z zfs list -H -o name,origin tank/deep/er/c3
z zfs snapshot tank/vms/web1@race
z zfs clone tank/vms/web1@race tank/vms/race
z zfs destroy tank/nope
z zfs destroy tank/nope@x
z zfs destroy tank/vms/web1@nope
z zfs destroy tank/vms/web1@base
z zfs destroy tank/vms/web1
z zfs destroy -r tank/vms/web1
z zfs create tank/fs1
z zfs create tank/fs1/c
z zfs destroy tank/fs1
z zfs destroy tank
z zfs destroy -x tank/vms/c1
z zfs destroy tank/vms/c1
z zfs get -H -o value clones tank/vms/web1@base
z zfs destroy -R tank/vms/web1@base
z zfs list -H -o name tank/vms/c2 tank/deep/er/c3 tank/vms/web1@base
z zfs destroy -r tank/fs1
z zfs create -V 1M tank/vms/tmpv
z zfs snapshot tank/vms/tmpv@a
z zfs destroy -r tank/vms/tmpv
z zfs list -H -o name -t all tank/vms/tmpv@a

section get-list-set
z zfs create tank/vms
z zfs create -V 64M tank/vms/web1
z zfs create -s -V 1G tank/vms/sp
z zfs create -V 64M -o qvm:role=image tank/vms/img
z zfs snapshot tank/vms/web1@u
z zfs snapshot tank/vms/web1@race
z zfs get -H -o name,value volsize tank/vms/web1 tank/nope
z zfs get bogus tank/vms/web1
z zfs get
z zfs get -H -o name -t snapshot name tank/vms/web1
z zfs get -H -o value volsize tank/vms
z zfs list -o name,volsize tank/vms/web1
z zfs list -H -r -o name tank/vms
z zfs list -H -d 1 -o name tank
z zfs list -H -t snapshot -o name
z zfs list -H -t all -o name -r tank/vms/web1
z zfs list -H -o name tank/vms/web1@u
z zfs list -Hp -o name,volsize -s volsize -t volume -r tank/vms
z zfs list -H -o name,qvm:role -t volume -r tank/vms
z zfs list -H tank/nope
z zfs list -H -t snapshot tank/vms/img
z zfs list -t snapshot tank/vms/img
z zfs list -o bogus
z zfs set qvm:x=1 tank/vms/web1
z zfs get -H -o value qvm:x tank/vms/web1
z zfs set volsize=96M tank/vms/web1
z zfs get -Hp -o value volsize,refreservation tank/vms/web1
z zfs set volsize=1000 tank/vms/web1
z zfs set bogus=1 tank/vms/web1
z zfs set qvm:x=1 tank/nope
z zfs set qvm:x=1

section qvm-call-shapes
# The shapes of src/zfs.c's calls, with qvm's own properties.
z zfs create tank/img
z zfs list -H -p -o name tank/img/debian12
z zfs create -V 67108864 -o volblocksize=16K -o refreservation=none -o qvm:role=image -o qvm:created=2026-01-01T00:00:00Z -o qvm:run=0123456789abcdef tank/img/debian12
z zfs create -V 67108864 -o volblocksize=16K -o refreservation=none -o qvm:role=image tank/img/debian12
z zfs create -V 67108864 -o volblocksize=16K -o refreservation=none -o qvm:role=image tank/nope/debian12
z zfs create -V 67108864 -o volblocksize=16K -o refreservation=none -o qvm:role=image nopool/debian12
z zfs create -V 67108864 -o volblocksize=16K -o refreservation=none tank/img/debian12/x
# A stream's volume: thin and large until the stream's end, then its size.
z zfs create -V 1099511627776 -o volblocksize=16K -o refreservation=none -o qvm:role=image tank/img/stream
z zfs set volsize=2097152 tank/img/stream
z zfs get -Hp -o value volsize,refreservation tank/img/stream
z zfs set volsize=2097153 tank/img/stream
z zfs destroy -r tank/img/stream
z zfs snapshot tank/img/debian12@base
z zfs snapshot tank/img/debian12@base
z zfs list -H -p -o name tank/img/debian12@base
z zfs list -H -p -o name tank/img/nope@base
z zfs list -H -p -o name tank/img/debian12@nope
z zfs list -H -p -o name nopool/x@base
z zfs get -Hp -o value volsize tank/img/debian12@base
z zfs get -Hp -o value volsize tank/img/nope@base
z zfs get -Hp -o value qvm:run tank/img/debian12
z zfs get -Hp -o value qvm:name tank/img/debian12
z zfs clone -o volsize=128M -o compression=lz4 -o qvm:role=vm -o qvm:name=web1 -o qvm:created=2026-01-01T00:00:00Z -o qvm:run=fedcba9876543210 -o qvm:seed=/var/lib/qvm/web1 -o qvm:connect=test:///default tank/img/debian12@base tank/img/web1
z zfs clone -o qvm:role=vm tank/img/debian12@base tank/img/web1
z zfs clone -o qvm:role=vm tank/img/debian12@base other/web1
z zfs clone -o qvm:role=vm tank/img/debian12@nope tank/img/web2
z zfs clone -o volsize=1000 -o qvm:role=vm tank/img/debian12@base tank/img/web2
z zfs clone -o compression=bogus -o qvm:role=vm tank/img/debian12@base tank/img/web2
z zfs clone -o qvm:role=vm tank/img/debian12@base tank/nope/web2
z zfs list -H -p -o name,type,qvm:role,qvm:name,origin,volsize -t volume,snapshot
z zfs list -H -p -o name,qvm:role,qvm:name -t volume
z zfs get -Hp -o value qvm:role tank/img/web1
z zfs get -Hp -o value qvm:seed tank/img/web1
z zfs get -Hp -o value qvm:connect tank/img/web1
z zfs get -Hp -o value qvm:connect tank/img/debian12
z zfs get -Hp -o value clones tank/img/debian12@base
z zfs get -Hp -o value qvm:role tank/img/nope
z zfs destroy -r tank/img/debian12
z zfs destroy tank/img/debian12
z zfs snapshot tank/img/web1@mine
z zfs destroy tank/img/web1
z zfs destroy -r tank/img/debian12@base
z zfs destroy -r tank/img/web1
z zfs get -Hp -o value clones tank/img/debian12@base
z zfs destroy -r tank/img/debian12
z zfs destroy -r tank/img/debian12
z zfs destroy tank/img/nope

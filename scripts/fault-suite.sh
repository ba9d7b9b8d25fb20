#!/usr/bin/env bash
# The long fault suite, run before a release (docs/reliability.md has the last results).
#
#   scripts/fault-suite.sh [KILLS] [MUTANTS]      (defaults 30 and 300; needs a release build)
#
# 1. kill -9: a fit with --checkpoint-every 1 is killed KILLS times at random moments and
#    resumed each time; the final model and checkpoint must equal an uninterrupted fit's bit for
#    bit, and no temporary file may be left.
# 2. two writers: two fits into one --out at once; exactly one may run, the other must fail at
#    once naming the holder.
# 3. disk full: fit, extract, simulate and bids participant on a 2 MB tmpfs (skipped without permission to mount);
#    each must fail with a message, and latents must refuse what the fit left.
# 4. gzip mutations: MUTANTS copies of a .nii.gz with bytes of the deflate stream or the trailer
#    changed; every one must either fail with an error or read the original voxels.
# 5. kills of a running bids job: the participant level killed mid-extraction and the group
#    level killed mid-fit, each rerun until it completes; the derivatives, the group model and its
#    read-outs must equal those of uninterrupted runs byte for byte.
# SECTIONS=kill,writers,disk,gzip,bids (the default: all) runs a subset.
# Prints one line per check and a summary; exits non-zero when any check fails.
set -u
cd "$(dirname "$0")/.."
F=${FMRIDYN:-$PWD/.build/release/fmridyn}
KILLS=${1:-30}
MUTANTS=${2:-300}
export FMRIDYN_ATLAS_DIR=$PWD/atlases
work=$(mktemp -d)
trap 'umount "$work/full" 2>/dev/null; rm -rf "$work"' EXIT
failures=0
SECTIONS=${SECTIONS:-kill,writers,disk,gzip,bids}
want() { [[ ",$SECTIONS," == *",$1,"* ]]; }
say() { printf '%s\n' "$*"; }
fail() { say "FAIL: $*"; failures=$((failures + 1)); }

[ -x "$F" ] || { say "no release binary at $F; run swift build -c release"; exit 2; }
"$F" simulate --out "$work/sim" --subjects 3 --runs 1 --volumes 120 --grid 4mm --seed 3 -q || exit 2
fit=(fit "$work/sim" --epochs 400 --patience 500 --window 16 --stride 4 --latent-dim 4 --hidden 32 --batch-size 8 --checkpoint-every 1 --threads 2 -q)

if want kill; then
# 1. Repeated kill -9 and resume.
"$F" "${fit[@]}" --out "$work/reference" || exit 2
kills=0; resumed=0; started=$(date +%s)
"$F" "${fit[@]}" --out "$work/killed" & pid=$!
while [ $kills -lt "$KILLS" ]; do
    sleep "$(python3 -c 'import random; print(round(random.uniform(0.2, 1.2), 2))')"
    if kill -0 $pid 2>/dev/null; then
        kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; kills=$((kills + 1))
    else
        wait $pid 2>/dev/null
        [ -f "$work/killed/checkpoint/state.json" ] && grep -q '"finished":true' "$work/killed/checkpoint/state.json" && break
    fi
    "$F" "${fit[@]}" --out "$work/killed" --resume & pid=$!; resumed=$((resumed + 1))
done
wait $pid 2>/dev/null
"$F" "${fit[@]}" --out "$work/killed" --resume || fail "the final resume failed"
identical=1
for file in model.safetensors checkpoint/model.safetensors checkpoint/optimizer.safetensors config.json; do
    cmp -s "$work/reference/$file" "$work/killed/$file" || { identical=0; fail "after $kills kills, $file differs from the uninterrupted fit's"; }
done
cut -d, -f1-7 "$work/reference/training_log.csv" > "$work/a.csv"; cut -d, -f1-7 "$work/killed/training_log.csv" > "$work/b.csv"
cmp -s "$work/a.csv" "$work/b.csv" || { identical=0; fail "the training log (without times) differs after $kills kills"; }
leftovers=$(find "$work/killed" -name '.*' ! -name '.fmridyn.lock' -o -name '*staging*' -o -name '*.previous' | grep -v '^$' | wc -l)
[ "$leftovers" -eq 0 ] || fail "$leftovers temporary files left in the killed fit's directory"
say "kill -9: $kills kills, $resumed resumes in $(( $(date +%s) - started )) s; bit-identical: $([ $identical -eq 1 ] && echo yes || echo no); temporaries left: $leftovers"

fi

if want writers; then
# 2. Two writers into one directory.
"$F" "${fit[@]}" --out "$work/both" > "$work/one.txt" 2>&1 & first=$!
sleep 0.3
"$F" "${fit[@]}" --out "$work/both" > "$work/two.txt" 2>&1; second=$?
wait $first; first_status=$?
if [ $first_status -eq 0 ] && [ $second -ne 0 ] && grep -q "another fmridyn process" "$work/two.txt"; then
    say "two writers: the second failed at once ($(head -c 160 "$work/two.txt" | tr '\n' ' '))"
else
    fail "two writers: exit codes $first_status and $second; $(cat "$work/two.txt" | head -3)"
fi

fi

if want disk; then
# 3. Disk full (for bids: participant outputs into a tmpfs left with about 100 kB free).
mkdir -p "$work/full"
if mount -t tmpfs -o size=2m tmpfs "$work/full" 2>/dev/null; then
    for job in fit extract simulate bids; do
        rm -rf "$work/full/"* 2>/dev/null
        case $job in
            fit) "$F" fit "$work/sim" --epochs 2 --window 16 --latent-dim 4 --hidden 64 --out "$work/full/model" -q > "$work/full.txt" 2>&1 ;;
            extract) cp "$work/sim/sub-01/func/"*_bold.nii.gz "$work/bold.nii.gz"
                     "$F" extract "$work/bold.nii.gz" --mask mni152 --out "$work/full/voxels.nii" -q > "$work/full.txt" 2>&1 ;;
            simulate) "$F" simulate --out "$work/full/sim" --subjects 2 --volumes 200 --grid 4mm -q > "$work/full.txt" 2>&1 ;;
            bids) dd if=/dev/zero of="$work/full/filler" bs=1k count=1950 2>/dev/null
                  "$F" bids "$work/sim" "$work/full/derivatives" participant --atlas power264 --radius 6 --allow-overlap -q > "$work/full.txt" 2>&1 ;;
        esac
        status=$?
        if [ $status -eq 0 ]; then
            say "disk full: $job fit in 2 MB (exit 0), nothing to check"
        elif grep -qi "disk\|space\|could not be written\|fsync" "$work/full.txt"; then
            say "disk full: $job exit $status: $(head -c 160 "$work/full.txt" | tr '\n' ' ')"
        else
            fail "disk full: $job exit $status without a clear message: $(head -c 200 "$work/full.txt")"
        fi
        if [ $job = bids ]; then
            # With space again, a rerun completes every run and no truncated table was kept.
            rm -f "$work/full/filler"
            "$F" bids "$work/sim" "$work/full/derivatives" participant --atlas power264 --radius 6 --allow-overlap -q > /dev/null 2>&1 || fail "bids: the rerun after freeing space failed"
            short=0
            for table in "$work/full/derivatives"/sub-*/func/*_timeseries.tsv; do
                [ "$(wc -l < "$table")" -eq 121 ] || short=$((short + 1))
            done
            [ $short -eq 0 ] && say "disk full: bids rerun completed $(ls "$work/full/derivatives"/sub-*/func/*_timeseries.tsv | wc -l) runs, none truncated" || fail "bids: $short truncated tables after the rerun"
        fi
        if [ $job = fit ] && [ -d "$work/full/model" ]; then
            if "$F" latents --model "$work/full/model" "$work/sim" --out "$work/latents.csv" -q > /dev/null 2>&1; then
                fail "latents accepted the model directory a full disk left"
            else
                say "disk full: latents refused the half-written model directory"
            fi
        fi
        leftovers=$(find "$work/full" -name '.*tmp*' -o -name '.dat.nosync*' -o -name '*staging*' | wc -l)
        [ "$leftovers" -eq 0 ] || fail "disk full: $job left $leftovers temporary files"
    done
    umount "$work/full"
else
    say "disk full: skipped (cannot mount a tmpfs here)"
fi

fi

if want gzip; then
# 4. gzip mutations of the deflate stream and the trailer.
"$F" simulate --out "$work/small" --subjects 1 --runs 1 --volumes 20 --grid 4mm --seed 5 -q
source=$(ls "$work/small/sub-01/func/"*_bold.nii.gz | head -1)
python3 - "$F" "$source" "$MUTANTS" "$work" <<'EOF' || failures=$((failures + 1))
import gzip, json, random, subprocess, sys
binary, source, count, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
original = open(source, 'rb').read()
plain = gzip.decompress(original)
def stats(path):
    run = subprocess.run([binary, 'info', '--json', '--stats', path], capture_output=True, text=True)
    return run.returncode, run.stdout, run.stderr
_, reference, _ = stats(source)
random.seed(7)
outcomes = {'refused': 0, 'identical': 0, 'silent_wrong': 0, 'crash': 0}
for trial in range(count):
    data = bytearray(original)
    region = trial % 3  # 0: trailer (CRC-32, ISIZE), 1: deflate stream, 2: a truncation
    if region == 0:
        data[len(data) - 1 - random.randrange(8)] ^= 1 << random.randrange(8)
    elif region == 1:
        data[random.randrange(18, len(data) - 8)] ^= 1 << random.randrange(8)
    else:
        data = data[:random.randrange(18, len(data))]
    path = f'{work}/mutant.nii.gz'
    open(path, 'wb').write(bytes(data))
    try:
        good = gzip.decompress(bytes(data)) == plain
    except Exception:
        good = False
    status, out, err = stats(path)
    if status < 0 or status > 2 or 'Fatal error' in err:
        outcomes['crash'] += 1
    elif status == 0 and (out == reference or good):
        outcomes['identical'] += 1
    elif status == 0:
        outcomes['silent_wrong'] += 1
        print(f'silent wrong answer: trial {trial}, region {region}', file=sys.stderr)
    else:
        outcomes['refused'] += 1
print(f"gzip mutations: {count} mutants: {outcomes['refused']} refused with an error, {outcomes['identical']} read the original voxels, "
      f"{outcomes['silent_wrong']} silent wrong answers, {outcomes['crash']} crashes")
sys.exit(1 if outcomes['silent_wrong'] or outcomes['crash'] else 0)
EOF

fi

if want bids; then
# 5. Kills of a running bids job, participant then group level, each rerun until it finishes.
bids_participant=(bids "$work/sim" OUT participant --atlas power264 --radius 6 --allow-overlap --skip-bids-validation -q)
bids_group=(bids "$work/sim" OUT group --atlas power264 --radius 6 --allow-overlap --skip-bids-validation --epochs 60 --patience 100
            --window 16 --stride 4 --latent-dim 4 --hidden 16 --batch-size 8 --checkpoint-every 1 --threads 2 -q)
# The arguments with OUT replaced; fmridyn itself runs in the background (not a subshell), so
# kill -9 reaches the process that writes.
with_out() { local out=$1; shift; ARGS=("${@/OUT/$out}"); }
with_out "$work/bids-ref" "${bids_participant[@]}"; "$F" "${ARGS[@]}" > /dev/null 2>&1 || fail "bids participant (uninterrupted) failed"
with_out "$work/bids-ref" "${bids_group[@]}"; "$F" "${ARGS[@]}" > /dev/null 2>&1 || fail "bids group (uninterrupted) failed"
for level in participant group; do
    if [ $level = participant ]; then with_out "$work/bids-killed" "${bids_participant[@]}"; else with_out "$work/bids-killed" "${bids_group[@]}"; fi
    kills=0; reruns=0
    "$F" "${ARGS[@]}" > /dev/null 2>&1 & pid=$!
    while true; do
        # Extraction of a run takes tens of milliseconds, an epoch of the group fit about as long.
        if [ $level = participant ]; then sleep "0.0$((RANDOM % 8 + 1))"; else sleep "0.$((RANDOM % 8 + 2))"; fi
        if kill -0 $pid 2>/dev/null && [ $kills -lt 12 ]; then
            kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; kills=$((kills + 1))
        else
            wait $pid; status=$?
            [ $status -eq 0 ] && break
            fail "bids $level: a rerun after $kills kills exited $status"; break
        fi
        "$F" "${ARGS[@]}" > /dev/null 2>&1 & pid=$!; reruns=$((reruns + 1))
    done
    "$F" "${ARGS[@]}" > /dev/null 2>&1 || fail "bids $level: the final rerun failed"
    differ=0; compared=0
    if [ $level = participant ]; then
        files=$(cd "$work/bids-ref" && find sub-* -type f \( -name '*_timeseries.tsv' -o -name '*_timeseries.json' \) ! -name '*desc-latents*' | sort)
    else
        files="models/model.safetensors models/config.json group/latents.csv group/fixed_points.json group/decoding.json"
        files="$files $(cd "$work/bids-ref" && find sub-* -type f -name '*desc-latents_timeseries.tsv' | sort)"
    fi
    for file in $files; do
        compared=$((compared + 1))
        cmp -s "$work/bids-ref/$file" "$work/bids-killed/$file" || { differ=$((differ + 1)); fail "bids $level: $file differs after $kills kills"; }
    done
    leftovers=$(find "$work/bids-killed" \( -name '.*tmp*' -o -name '.dat.nosync*' -o -name '*staging*' -o -name '.fmridyn-runs-*' \) | wc -l)
    [ "$leftovers" -eq 0 ] || fail "bids $level: $leftovers temporary files left"
    say "bids $level kill -9: $kills kills, $reruns reruns; $compared files compared, $differ differ; temporaries left: $leftovers"
done
fi

say "fault suite: $failures failures"
exit $((failures > 0))

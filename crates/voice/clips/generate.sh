#!/bin/sh
# Regenerate the default clip set with espeak-ng (Debian package espeak-ng). Mandarin words use
# the cmn-latn-pinyin voice (plain `cmn` reads hanzi with an English voice); the letters of
# ticket prefixes are read as English letter names, as halls announce them. Halls replace any
# clip by dropping a WAV of the same name into their own clip directory.
set -eu
out="$(dirname "$0")/default"
mkdir -p "$out"
# Trim leading/trailing silence (the phrase adds its own gaps) and store 16 kHz mono 16-bit.
trim() { sox "$1" -r 16000 -b 16 -c 1 "$1.tmp.wav" gain -n -1 silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse && mv "$1.tmp.wav" "$1"; }
say() { espeak-ng -v cmn-latn-pinyin -s 140 -w "$out/$1.wav" "$2" && trim "$out/$1.wav"; }
say qing qing3
say hao hao4
say dao dao4
say chuangkou "chuang1 kou3"
say banli "ban4 li3"
i=0
for p in ling2 yi1 er4 san1 si4 wu3 liu4 qi1 ba1 jiu3; do say "$i" "$p"; i=$((i + 1)); done
say shi shi2
say bai bai3
for l in a b c d e f g h i j k l m n o p q r s t u v w x y z; do
  espeak-ng -v en -s 140 -w "$out/$l.wav" "$(echo "$l" | tr a-z A-Z)" && trim "$out/$l.wav"
done

# bench/lib.sh: what the benchmark scripts share (sourced, not run).
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
json_ops() { perl -MJSON::PP -0777 -ne 'print decode_json($_)->{strategies}[0]{ops_per_s}, "\n"'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
